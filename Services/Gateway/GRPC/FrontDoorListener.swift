import GRPCNIOTransportCore
import Logging
import NIOCore
import NIOPosix
import RetainRPC

/// How the gRPC front door accepts connections: a TCP listener bound as grpc-swift's Posix
/// transport binds one, with the TLS handlers made from ``ServerTLS``'s *current* context first in
/// each accepted connection (the native port's handshake timeout included). grpc-swift's own
/// TLS builds its context once, from files, when it starts listening; this way a certificate
/// reload (``ServerTLS/reload()``: a file change or SIGHUP) serves every new connection without
/// a restart, while open connections keep theirs, exactly as on the native port (docs/TLS.md).
struct FrontDoorListener: HTTP2ServerTransport.ListenerFactory {
    let host: String
    let port: Int
    /// Nil serves plaintext.
    let tls: ServerTLS?
    let logger: Logger
    let eventLoopGroup: any EventLoopGroup

    func makeListeningChannel(
        listenerConfigurator: HTTP2ServerTransport.ListenerConfigurator,
        connectionConfigurator: HTTP2ServerTransport.ConnectionConfigurator
    ) async throws -> NIOAsyncChannel<HTTP2ServerTransport.ConnectionConfigurator.ConnectionChannel, Never> {
        let (tls, logger) = (self.tls, self.logger)
        return try await ServerBootstrap(group: eventLoopGroup)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelInitializer { listenerConfigurator.configure(channel: $0) }
            .bind(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls {
                        try channel.pipeline.syncOperations.addHandlers(tls.makeHandlers(eventLoop: channel.eventLoop, logger: logger))
                    }
                }.flatMap {
                    // ALPN is offered (h2), not required: the HTTP/2 preface decides.
                    connectionConfigurator.configure(channel: channel, tls: tls == nil ? .none : .configured(requireALPN: false))
                }
            }
    }
}
