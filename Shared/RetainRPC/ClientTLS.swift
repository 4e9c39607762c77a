package import Logging
public import NIOCore
import NIOSSL

/// TLS for outgoing connections: which CAs to trust, the certificate to present when servers
/// require one (mutual TLS), and the name to expect in the server's certificate.
///
/// The files are read and the NIO TLS context is built once, here: every connection of every
/// client given this value shares it.
public struct ClientTLS: Sendable {
    /// The context every connection's TLS handler is made from.
    let context: NIOSSLContext

    /// The name the server's certificate must hold (and that is sent as SNI); nil checks the
    /// host each client connects to: a DNS name against the certificate's DNS names, an IP
    /// address against its IP addresses. A certificate that holds the IP address connected to
    /// is accepted too (swift-nio-ssl's rule). Default nil.
    public var serverHostname: String?

    /// How long the TLS handshake may take once TCP connected; a server that does not answer
    /// it in time (a plaintext server waiting for a frame) fails the connection. Default 10 s.
    public var handshakeTimeout: TimeAmount = .seconds(10)

    /// Reads the PEM files and builds the TLS context (TLS 1.2 or later, full certificate and
    /// host name verification).
    ///
    /// - Parameters:
    ///   - caFile: CA certificates (PEM) that server certificates must chain to; nil trusts the
    ///     system's CA store.
    ///   - certificateFile: the client's certificate chain (PEM), presented to servers that
    ///     require one; needs `keyFile`.
    ///   - keyFile: the private key of the client certificate (PEM).
    ///   - serverHostname: see ``serverHostname``.
    /// - Throws: ``TLSSetupError`` naming the file when one is missing, unreadable or not PEM,
    ///   when only one of certificate and key is given, or when they do not match.
    public init(
        caFile: String? = nil, certificateFile: String? = nil, keyFile: String? = nil,
        serverHostname: String? = nil
    ) throws(TLSSetupError) {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        configuration.certificateVerification = .fullVerification
        if let caFile {
            configuration.trustRoots = .certificates(try PEMFile.certificates(caFile, role: "CA"))
        }
        switch (certificateFile, keyFile) {
        case (let certificateFile?, let keyFile?):
            configuration.certificateChain = try PEMFile.certificates(certificateFile, role: "certificate")
                .map { .certificate($0) }
            configuration.privateKey = .privateKey(try PEMFile.privateKey(keyFile))
        case (nil, nil):
            break
        case (_?, nil):
            throw TLSSetupError("a TLS client certificate needs its private key file too")
        case (nil, _?):
            throw TLSSetupError("a TLS client private key needs its certificate file too")
        }
        context = try PEMFile.context(configuration, certificateFile: certificateFile, keyFile: keyFile)
        self.serverHostname = serverHostname
    }

    /// The handlers that go first in the pipeline of a connection to `host`: the TLS handler,
    /// then the handshake watcher whose ``TLSHandshakeHandler/established`` the connection
    /// waits for before it is used.
    func makeHandlers(host: String, eventLoop: any EventLoop, logger: Logger) throws -> [any ChannelHandler] {
        // SNI carries names only; an IP address is checked against the certificate's IP
        // addresses through the connected peer's address.
        let name = serverHostname ?? ((try? SocketAddress(ipAddress: host, port: 0)) == nil ? host : nil)
        return [
            try NIOSSLClientHandler(context: context, serverHostname: name),
            TLSHandshakeHandler(timeout: handshakeTimeout, logger: logger, failureLevel: .debug, eventLoop: eventLoop),
        ]
    }
}
