public import Logging
public import NIOCore
import NIOHTTP1
public import NIOPosix
public import Prometheus
public import RetainRPC
import RetainProto
public import ServiceLifecycle
import Synchronization

/// The operations endpoints of a Retain process, over HTTP/1.1 on a port of their own:
///
/// | path       | answer                                                                    |
/// |------------|---------------------------------------------------------------------------|
/// | `/metrics` | every swift-metrics metric of the process, Prometheus text format 0.0.4   |
/// | `/healthz` | 200 while the process runs (liveness)                                     |
/// | `/readyz`  | 200 once recovery finished and the RPC server listens; 503 before, and    |
/// |            | 503 while it drains (readiness)                                           |
///
/// The server runs on NIO channel handlers rather than in a task group so that it answers
/// from the moment it binds, while the process still recovers its state (a liveness probe
/// must not kill a process that replays a long log). As a lifecycle ``Service`` it closes only
/// when graceful shutdown reaches it; put it first in a service group so it closes last.
public final class OpsServer: Service, Sendable {
    /// Where to listen.
    public struct Configuration: Sendable {
        /// Address to bind. Default 127.0.0.1.
        public var host: String = "127.0.0.1"
        /// Port to bind; 0 picks a free one. Default 0.
        public var port: Int = 0
        /// TLS (HTTPS) on the endpoints; nil serves plain HTTP, which Kubernetes probes and
        /// most scrapers expect. Give it a ``ServerTLS`` without a client CA: probes present
        /// no certificate. Default nil.
        public var tls: ServerTLS?

        public init(host: String = "127.0.0.1", port: Int = 0, tls: ServerTLS? = nil) {
            self.host = host
            self.port = port
            self.tls = tls
        }
    }

    private let channel: any Channel
    private let readiness: ReadinessState

    private init(channel: any Channel, readiness: ReadinessState) {
        self.channel = channel
        self.readiness = readiness
    }

    /// The bound address.
    public var localAddress: SocketAddress? { channel.localAddress }

    /// Binds the port and starts answering; `/readyz` answers 503 until ``markReady(_:)``.
    public static func start(
        configuration: Configuration, registry: PrometheusCollectorRegistry = ServiceRunner.metricsRegistry,
        logger: Logger, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> OpsServer {
        let readiness = ReadinessState()
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls = configuration.tls {
                        try channel.pipeline.syncOperations.addHandlers(
                            tls.makeHandlers(
                                eventLoop: channel.eventLoop,
                                logger: logger))
                    }
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(
                        OpsHTTPHandler { path in
                            Self.answer(path: path, registry: registry, readiness: readiness)
                        })
                }
            }
            .bind(host: configuration.host, port: configuration.port)
            .get()
        logger.info("ops endpoints listening", metadata: ["address": "\(channel.localAddress.map { "\($0)" } ?? "?")"])
        return OpsServer(channel: channel, readiness: readiness)
    }

    /// Marks the process ready: `/readyz` answers 200 while `health` says the process ("")
    /// is SERVING, and 503 once it drains.
    public func markReady(_ health: HealthStatus) {
        readiness.state.withLock { $0 = .serving(health) }
    }

    /// Answers until graceful shutdown reaches this service, then closes the port.
    public func run() async throws {
        try? await gracefulShutdown()
        try? await channel.close()
    }

    /// Closes the port now.
    public func close() async {
        try? await channel.close()
    }

    /// The answer to a GET of `path`.
    private static func answer(
        path: String, registry: PrometheusCollectorRegistry, readiness: ReadinessState
    )
        -> OpsHTTPHandler.Answer
    {
        switch path {
        case "/metrics":
            return .init(
                status: .ok, contentType: "text/plain; version=0.0.4; charset=utf-8",
                body: registry.emitToBuffer())
        case "/healthz":
            return .text(.ok, "ok\n")
        case "/readyz":
            switch readiness.state.withLock({ $0 }) {
            case .starting:
                return .text(.serviceUnavailable, "starting\n")
            case .serving(let health):
                return health.status(of: "") == .serving ? .text(.ok, "ready\n") : .text(.serviceUnavailable, "draining\n")
            }
        default:
            return .text(.notFound, "not found: try /metrics, /healthz or /readyz\n")
        }
    }

    /// Where the process stands, as `/readyz` reports it; shared by the server and its handlers.
    private final class ReadinessState: Sendable {
        enum Stage {
            /// Recovering state or starting the RPC server.
            case starting
            /// The RPC server listens; ready while its health says SERVING.
            case serving(HealthStatus)
        }

        let state = Mutex<Stage>(.starting)
    }
}
