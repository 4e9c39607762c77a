public import NIOCore
package import Logging
import NIOSSL

/// TLS for a listener: its certificate chain and private key and, for mutual TLS, the CA that
/// every client certificate must chain to.
///
/// The files are read and the NIO TLS context is built once, here: every connection of the
/// server shares it. Certificates are read only at start, so rotating them means restarting
/// the process (docs/TLS.md).
public struct ServerTLS: Sendable {
    /// The context every connection's TLS handler is made from.
    let context: NIOSSLContext

    /// True when clients must present a certificate signed by the client CA (mutual TLS).
    public let requiresClientCertificate: Bool

    /// How long a new connection may take to finish its TLS handshake before it is closed;
    /// this bounds clients that connect and send nothing, or half a handshake. Default 10 s.
    public var handshakeTimeout: TimeAmount = .seconds(10)

    /// Reads the PEM files and builds the TLS context (TLS 1.2 or later).
    ///
    /// - Parameters:
    ///   - certificateFile: the server's certificate chain, leaf first (PEM).
    ///   - keyFile: the private key of the leaf certificate (PEM).
    ///   - clientCAFile: CA certificates (PEM); when given, clients must present a certificate
    ///     that chains to one of them, and are refused otherwise (mutual TLS).
    /// - Throws: ``TLSSetupError`` naming the file when one is missing, unreadable or not PEM,
    ///   or when the key does not match the certificate.
    public init(certificateFile: String, keyFile: String, clientCAFile: String? = nil) throws(TLSSetupError) {
        let chain = try PEMFile.certificates(certificateFile, role: "certificate")
        let key = try PEMFile.privateKey(keyFile)
        var configuration: TLSConfiguration
        if let clientCAFile {
            let roots = try PEMFile.certificates(clientCAFile, role: "client CA")
            configuration = .makeServerConfigurationWithMTLS(
                certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key),
                trustRoots: .certificates(roots))
        } else {
            configuration = .makeServerConfiguration(certificateChain: chain.map { .certificate($0) },
                                                     privateKey: .privateKey(key))
        }
        configuration.minimumTLSVersion = .tlsv12
        context = try PEMFile.context(configuration, certificateFile: certificateFile, keyFile: keyFile)
        requiresClientCertificate = clientCAFile != nil
    }

    /// The handlers that go first in a new connection's pipeline: the TLS handler, then the
    /// handshake watcher that closes connections whose handshake fails or takes too long.
    package func makeHandlers(eventLoop: any EventLoop, logger: Logger) -> [any ChannelHandler] {
        [NIOSSLServerHandler(context: context),
         TLSHandshakeHandler(timeout: handshakeTimeout, logger: logger, failureLevel: .info, eventLoop: eventLoop)]
    }
}
