public import NIOCore
package import Logging
import NIOSSL
import Synchronization

/// TLS for a listener: its certificate chain and private key and, for mutual TLS, the CA that
/// every client certificate must chain to.
///
/// The files are read and the NIO TLS context is built here; every new connection takes the
/// current context. ``reload()`` reads the files again and swaps the context in (new
/// connections use it, open ones keep theirs), so certificates rotate without a restart; a bad
/// file is refused and the old context stays in force (docs/TLS.md).
public struct ServerTLS: Sendable {
    /// The context new connections' TLS handlers are made from, swapped by ``reload()``.
    private let current: ContextBox
    private let files: (certificate: String, key: String, clientCA: String?)
    /// The ALPN protocols offered, most preferred first (e.g. `h2` for gRPC over HTTP/2).
    private let applicationProtocols: [String]

    private final class ContextBox: Sendable {
        let context: Mutex<NIOSSLContext>
        init(_ context: NIOSSLContext) { self.context = Mutex(context) }
    }

    /// The context new connections use now.
    var context: NIOSSLContext { current.context.withLock { $0 } }

    /// The files the context is read from (certificate chain, key, client CA).
    public var watchedFiles: [String] { [files.certificate, files.key] + (files.clientCA.map { [$0] } ?? []) }

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
    ///   - applicationProtocols: the ALPN protocols offered (`["h2"]` for gRPC); none by default,
    ///     as the native protocol negotiates none.
    /// - Throws: ``TLSSetupError`` naming the file when one is missing, unreadable or not PEM,
    ///   or when the key does not match the certificate.
    public init(
        certificateFile: String, keyFile: String, clientCAFile: String? = nil, applicationProtocols: [String] = []
    ) throws(TLSSetupError) {
        current = ContextBox(
            try Self.makeContext(
                certificateFile: certificateFile, keyFile: keyFile, clientCAFile: clientCAFile,
                applicationProtocols: applicationProtocols))
        files = (certificateFile, keyFile, clientCAFile)
        self.applicationProtocols = applicationProtocols
        requiresClientCertificate = clientCAFile != nil
    }

    /// Reads the files again and, when they make a valid context, uses it for new connections.
    /// Throws (keeping the old context) when a file is missing, not PEM, or the key does not match.
    public func reload() throws(TLSSetupError) {
        let context = try Self.makeContext(
            certificateFile: files.certificate, keyFile: files.key, clientCAFile: files.clientCA,
            applicationProtocols: applicationProtocols)
        current.context.withLock { $0 = context }
    }

    private static func makeContext(
        certificateFile: String, keyFile: String, clientCAFile: String?, applicationProtocols: [String]
    )
        throws(TLSSetupError) -> NIOSSLContext
    {
        let chain = try PEMFile.certificates(certificateFile, role: "certificate")
        let key = try PEMFile.privateKey(keyFile)
        var configuration: TLSConfiguration
        if let clientCAFile {
            let roots = try PEMFile.certificates(clientCAFile, role: "client CA")
            configuration = .makeServerConfigurationWithMTLS(
                certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key),
                trustRoots: .certificates(roots))
        } else {
            configuration = .makeServerConfiguration(
                certificateChain: chain.map { .certificate($0) },
                privateKey: .privateKey(key))
        }
        configuration.minimumTLSVersion = .tlsv12
        configuration.applicationProtocols = applicationProtocols
        return try PEMFile.context(configuration, certificateFile: certificateFile, keyFile: keyFile)
    }

    /// The handlers that go first in a new connection's pipeline: the TLS handler, then the
    /// handshake watcher that closes connections whose handshake fails or takes too long.
    package func makeHandlers(eventLoop: any EventLoop, logger: Logger) -> [any ChannelHandler] {
        [
            NIOSSLServerHandler(context: context),
            TLSHandshakeHandler(timeout: handshakeTimeout, logger: logger, failureLevel: .info, eventLoop: eventLoop),
        ]
    }
}
