public import Logging
public import NIOCore
public import NIOPosix
public import RetainAuth
import RetainProto
public import ServiceLifecycle
import Synchronization

/// A Retain RPC server on SwiftNIO: binds a TCP port, serves the router's methods (plus Health
/// and Reflection), and drains gracefully on shutdown.
public final class RPCServer: Service, Sendable {
    /// Limits and timeouts; every one has a safe default.
    public struct Configuration: Sendable {
        /// Address to bind. Default 127.0.0.1.
        public var host: String = "127.0.0.1"
        /// Port to bind; 0 picks a free one. Default 0.
        public var port: Int = 0
        /// Largest frame payload accepted, and largest decompressed message. Default 4 MiB.
        public var maximumPayloadSize: Int = 4 << 20
        /// Calls answered later (async, deferred, streaming) running at once on one connection;
        /// more get RESOURCE_EXHAUSTED. Default 1024.
        public var maximumConcurrentCallsPerConnection: Int = 1024
        /// Open connections. When reached, the oldest connection that has not presented a
        /// credential is closed to make room; when all are authenticated, new ones are closed at
        /// once. Default 4096.
        public var maximumConnections: Int = 4096
        /// Open connections from one source address; more are closed at once. Default 1024.
        public var maximumConnectionsPerAddress: Int = 1024
        /// How long a new connection may take to present a valid credential (in any call's
        /// header) when the server checks credentials; then it is closed with GOAWAY
        /// UNAUTHENTICATED. PINGs, and Health probes without a credential, do not count. Default 5 s.
        public var admissionTimeout: TimeAmount = .seconds(5)
        /// The largest frame a connection may send before it presented a valid credential; a
        /// larger REQUEST is buffered only after its call header's credential is verified.
        /// Default 64 KiB.
        public var unadmittedPayloadSize: Int = 64 << 10
        /// Answers written but not yet taken by the peer, per connection: past this, the
        /// connection's next requests are not read until the peer reads. Default 64 KiB.
        public var maximumUnsentBytes: Int = 64 << 10
        /// Bytes of incoming frames all connections together may hold while they arrive; past
        /// it the connection asking for more is closed and new calls get RESOURCE_EXHAUSTED
        /// (`not_processed`). Default 256 MiB.
        public var memoryBudget: Int = 256 << 20
        /// Answers at least this many bytes are sent zstd-compressed to callers that accept it.
        /// Default 64 KiB.
        public var compressionThreshold: Int = 64 << 10
        /// How long one frame may take to arrive once its first byte came; slower senders are cut
        /// off with GOAWAY DEADLINE_EXCEEDED. Default 10 s.
        public var frameTimeout: TimeAmount = .seconds(10)
        /// A connection with no call running and nothing received for this long is closed with
        /// GOAWAY. Default 5 minutes.
        public var idleTimeout: TimeAmount = .minutes(5)
        /// How long draining waits for running calls before closing. Default 10 s.
        public var drainTimeout: TimeAmount = .seconds(10)
        /// Checks every call's credential before its handler runs (every method but Health's
        /// probes, the fallback included): UNAUTHENTICATED, PERMISSION_DENIED naming the missing
        /// scope, or what ``CallAuthenticator/admit(_:method:)`` throws. Default nil: no checks.
        public var authenticator: (any CallAuthenticator)?
        /// TLS on every connection, mutual when it names a client CA; nil serves plaintext.
        /// The frames run unchanged inside TLS. Default nil.
        public var tls: ServerTLS?

        public init() {}
    }

    /// The methods served, Reflection included.
    public let router: RPCRouter
    public let configuration: Configuration
    private let logger: Logger
    private let metrics = ServerMetrics()
    private let state: Mutex<State> = Mutex(State())
    private let group: any EventLoopGroup

    private struct State {
        var channel: (any Channel)?
        var draining = false
    }

    /// The open connections and the bytes they buffer.
    private let budget: ConnectionBudget
    /// The registered methods, found by path.
    private let methods: MethodTable

    /// The same methods, checks and metrics for calls handed over inside the process (the
    /// gateway's gRPC front door); they stop being taken when the server drains.
    public let inProcessCalls: InProcessCalls

    /// Serving status per service, answered by `retain.v1.Health`. Every service of the router
    /// starts SERVING; draining turns every known service NOT_SERVING.
    public let health: HealthStatus

    /// Creates a server for `router`; Health and Reflection are added to it. `health` may be
    /// shared with code that reports other services (the gateway reports its backends).
    public init(
        router: RPCRouter, configuration: Configuration = Configuration(), logger: Logger,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        health: HealthStatus = HealthStatus()
    ) {
        self.health = health
        self.budget = ConnectionBudget(
            limits: .init(
                connections: configuration.maximumConnections,
                connectionsPerAddress: configuration.maximumConnectionsPerAddress,
                memoryBytes: configuration.memoryBudget))
        var router = router
        router.merge(health.router)
        router.merge(ReflectionService.router(listing: router))
        for service in Set(router.methods.map { String($0.path.prefix { $0 != "/" }) }) + [""] {
            health.set(service, .serving)
        }
        self.router = router
        self.configuration = configuration
        self.logger = logger
        self.group = group
        methods = MethodTable(router.serverMethods(metrics: metrics))
        inProcessCalls = InProcessCalls(
            methods: methods, fallback: router.fallbackHandler, metrics: metrics,
            authenticator: configuration.authenticator, group: group, logger: logger)
    }

    /// Binds the listening socket and starts accepting connections; returns the bound address.
    @discardableResult
    public func start() async throws -> SocketAddress {
        let configuration = configuration
        let metrics = metrics
        let methods = methods
        let fallback = router.fallbackHandler
        let logger = logger
        let budget = budget
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    guard let load = self.admit(channel) else {
                        channel.close(promise: nil)
                        return
                    }
                    if let tls = configuration.tls {
                        try channel.pipeline.syncOperations.addHandlers(
                            tls.makeHandlers(
                                eventLoop: channel.eventLoop,
                                logger: logger))
                    }
                    try channel.pipeline.syncOperations.addHandler(
                        ServerConnectionHandler(
                            methods: methods, fallback: fallback, configuration: configuration,
                            metrics: metrics, budget: budget, load: load, logger: logger))
                }
            }
            .bind(host: configuration.host, port: configuration.port)
            .get()
        state.withLock { $0.channel = channel }
        let address = channel.localAddress!
        logger.info(
            "listening",
            metadata: [
                "address": "\(address)", "methods": "\(router.methods.count)",
                "tls": "\(configuration.tls.map { $0.requiresClientCertificate ? "mutual" : "on" } ?? "off")",
            ])
        return address
    }

    /// The bound address, once started.
    public var localAddress: SocketAddress? { state.withLock { $0.channel?.localAddress } }

    /// Takes a new connection into the budgets; nil when it is refused.
    private func admit(_ channel: any Channel) -> ConnectionBudget.Load? {
        guard !state.withLock({ $0.draining }) else { return nil }
        let load: ConnectionBudget.Load
        do {
            load = try budget.open(channel, admitted: configuration.authenticator == nil)
        } catch {
            logger.warning("refusing connection: \(error)")
            return nil
        }
        metrics.connectionOpened()
        channel.closeFuture.whenComplete { [self] _ in
            self.budget.close(channel)
            self.metrics.connectionClosed()
        }
        return load
    }

    /// Serves until graceful shutdown (SIGTERM/SIGINT through the service group), then drains.
    public func run() async throws {
        if localAddress == nil { try await start() }
        let listener = state.withLock { $0.channel }!
        try await withGracefulShutdownHandler {
            try await listener.closeFuture.get()
        } onGracefulShutdown: {
            self.drain()
        }
        try await waitForConnectionsToClose()
    }

    /// Stops accepting connections and drains every open one: GOAWAY, running calls finish,
    /// then each connection closes.
    public func drain() {
        let listener = state.withLock { state in
            state.draining = true
            return state.channel
        }
        let connections = budget.channels
        logger.info("draining", metadata: ["connections": "\(connections.count)"])
        inProcessCalls.beginDraining()
        for service in Set(router.methods.map { String($0.path.prefix { $0 != "/" }) } + [""] + health.services) {
            health.set(service, .notServing)
        }
        health.endWatches()
        listener?.close(promise: nil)
        for connection in connections {
            connection.eventLoop.execute {
                try? connection.pipeline.syncOperations.handler(type: ServerConnectionHandler.self).drain()
            }
        }
    }

    /// Waits until every connection has closed.
    public func waitForConnectionsToClose() async throws {
        for connection in budget.channels {
            try? await connection.closeFuture.get()
        }
    }
}
