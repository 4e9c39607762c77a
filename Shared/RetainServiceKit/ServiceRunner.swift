public import Logging
import Metrics
import NIOCore
import RetainProto
public import Prometheus
public import RetainAuth
public import RetainRPC
public import RetainState
import RetainReplication
public import ServiceLifecycle
import Synchronization
import UnixSignals
#if canImport(Glibc)
import Glibc
#endif

/// Runs a Retain executable: bootstraps logging, serves the router until SIGTERM or SIGINT, and
/// drains gracefully, together with any other services (snapshotters, health checkers).
public enum ServiceRunner {
    /// Bootstraps swift-log for an executable: one line per message on standard error.
    public static func bootstrapLogging(level: Logger.Level) {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }

    /// The Prometheus registry behind swift-metrics, served at `/metrics`.
    public static let metricsRegistry = PrometheusCollectorRegistry()
    private static let metricsBootstrapped = Mutex(false)

    /// Makes swift-prometheus the swift-metrics backend of this process (once; later calls do
    /// nothing), so the RPC runtime's per-method counters and timers appear at `/metrics`.
    public static func bootstrapMetrics() {
        let first = metricsBootstrapped.withLock { done in
            defer { done = true }
            return !done
        }
        if first { MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: metricsRegistry)) }
    }

    /// Starts the operations endpoints for `options` (none when `--ops-port` is negative) and
    /// prints `<name> ops listening on HOST:PORT`.
    static func startOps(name: String, options: ServerOptions, tls: ServerTLS?, logger: Logger) async throws -> OpsServer? {
        bootstrapMetrics()
        guard options.opsPort >= 0 else { return nil }
        let ops = try await OpsServer.start(
            configuration: .init(host: options.host, port: options.opsPort, tls: tls),
            logger: logger)
        print("\(name) ops listening on \(options.host):\(ops.localAddress?.port ?? options.opsPort)")
        fflush(nil)
        return ops
    }

    /// Starts the server, prints `listening on HOST:PORT` on standard output (tests and the
    /// launcher read it), and runs until a shutdown signal. The operations endpoints
    /// (`--ops-port`) start first and report ready once the server listens. `health` may be
    /// shared with services that report others' health (the gateway's backends).
    ///
    /// Every call is checked by `authenticator`, by default a ``TokenVerifier`` of the service
    /// secret (`--service-secret-file` or `RETAIN_SERVICE_SECRET`); without a secret this throws
    /// before serving, unless `--insecure-no-auth` turns the checks off (warned about loudly, at
    /// start and every minute). `onServing` gets the server once it listens (before `services`
    /// start), for a service that hands calls to it in process (the gateway's gRPC front door,
    /// through ``RPCServer/inProcessCalls``).
    public static func run(
        name: String, router: RPCRouter, options: ServerOptions, logger: Logger,
        services: [any Service] = [], health: HealthStatus = HealthStatus(),
        authenticator: (any CallAuthenticator)? = nil,
        onServing: (RPCServer) -> Void = { _ in }
    ) async throws {
        let tls = try options.tls.load()
        let (authenticator, warning) = try authentication(name: name, options: options, given: authenticator, logger: logger)
        try await serve(
            name: name, router: router, options: options, tls: tls.server, logger: logger,
            services: services + warning + tlsReloader(tls, logger: logger),
            health: health, ops: startOps(name: name, options: options, tls: tls.ops, logger: logger),
            authenticator: authenticator, onListening: { _, server in onServing(server) })
    }

    /// The authenticator to serve with (nil when checks are off), and the services that repeat
    /// the insecure-mode warning.
    static func authentication(
        name: String, options: ServerOptions, given: (any CallAuthenticator)?, logger: Logger
    ) throws -> ((any CallAuthenticator)?, [any Service]) {
        guard let secret = try options.serviceSecret() else {
            ServerOptions.warnInsecure(logger, name: name)
            return (nil, [InsecureModeWarning(name: name, logger: logger)])
        }
        if let given { return (given, []) }
        let verifier = TokenVerifier(secret: secret)
        return (verifier, options.secretSource(rotating: verifier).map { [CredentialReloader(sources: [$0], logger: logger)] } ?? [])
    }

    /// Reloads the listener's (and ops endpoints') certificates when their files change or on SIGHUP.
    static func tlsReloader(_ tls: (server: ServerTLS?, ops: ServerTLS?), logger: Logger) -> [any Service] {
        guard let server = tls.server else { return [] }
        return [
            CredentialReloader(
                sources: [
                    .init(name: "tls", files: server.watchedFiles) {
                        try server.reload()
                        if let ops = tls.ops,
                            ops.watchedFiles != server.watchedFiles || ops.requiresClientCertificate != server.requiresClientCertificate
                        {
                            try ops.reload()
                        }
                    }
                ], logger: logger)
        ]
    }

    private static func serve(
        name: String, router: RPCRouter, options: ServerOptions, tls: ServerTLS?, logger: Logger,
        services: [any Service], health: HealthStatus, ops: OpsServer?, authenticator: (any CallAuthenticator)?,
        onListening: (Int, RPCServer) -> Void = { _, _ in }
    ) async throws {
        var configuration = RPCServer.Configuration()
        configuration.tls = tls
        configuration.authenticator = authenticator
        configuration.host = options.host
        configuration.port = options.port
        configuration.maximumPayloadSize = options.maximumFrameBytes
        configuration.maximumConcurrentCallsPerConnection = options.maximumConcurrentCalls
        configuration.maximumConnections = options.maximumConnections
        configuration.frameTimeout = .milliseconds(options.frameTimeoutMilliseconds)
        configuration.idleTimeout = .milliseconds(options.idleTimeoutMilliseconds)
        configuration.maximumConnectionsPerAddress = options.maximumConnectionsPerAddress
        configuration.admissionTimeout = .milliseconds(options.admissionTimeoutMilliseconds)
        configuration.unadmittedPayloadSize = options.unauthenticatedFrameBytes
        configuration.maximumUnsentBytes = options.maximumUnsentBytes
        configuration.memoryBudget = options.memoryBudgetBytes
        let server = RPCServer(router: router, configuration: configuration, logger: logger, health: health)
        let address = try await server.start()
        onListening(address.port ?? options.port, server)
        ops?.markReady(server.health)
        // The ops endpoints come first so that graceful shutdown, which runs in reverse order,
        // closes them last: /readyz answers 503 while the server drains. The announcement runs
        // inside the group: whoever reads it may send SIGTERM at once, and the group traps
        // SIGTERM before it starts its services.
        let announcement = ListeningAnnouncement(line: "\(name) listening on \(options.host):\(address.port ?? options.port)")
        let group = ServiceGroup(
            configuration: .init(
                services: (ops.map { [ServiceGroupConfiguration.ServiceConfiguration(service: $0)] } ?? [])
                    + [.init(service: server)] + services.map { .init(service: $0) } + [.init(service: announcement)],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        try await group.run()
    }

    /// Opens the state store for `options` (memory-only without `--data-dir`), serves the router
    /// that `makeRouter` builds on it, takes snapshots in the background, and closes the store
    /// on shutdown.
    public static func run<S: PersistentState>(
        name: String, state: S.Type, options: ServerOptions, storage: StorageOptions, logger: Logger,
        services: [any Service] = [], makeRouter: (StateStore<S>) throws -> RPCRouter
    ) async throws {
        let (authenticator, warning) = try authentication(name: name, options: options, given: nil, logger: logger)
        // The ops endpoints answer /healthz while the store recovers; /readyz waits for the server.
        // TLS files are checked before anything starts: a bad one refuses the start at once.
        let tls = try options.tls.load()
        let ops = try await startOps(name: name, options: options, tls: tls.ops, logger: logger)
        if options.dataDirectory == nil {
            logger.warning("no --data-dir: state is kept in memory only and lost on exit")
        }
        try storage.check(maximumFrameBytes: options.maximumFrameBytes)
        let replication = try storage.replication.configuration(
            service: serviceName(executable: name), host: options.host, port: options.port,
            dataDirectory: options.dataDirectory)
        let memberTLS = try storage.replication.memberTLS(
            serving: tls.server != nil, requiresClientCertificate: tls.server?.requiresClientCertificate == true)
        let store = try StateStore<S>(
            directory: options.dataDirectory, configuration: storage.configuration(),
            replicated: replication != nil, logger: logger)
        defer { store.close() }
        let health = HealthStatus()
        let available = Gauge(label: "retain_storage_available")
        let failures = Counter(label: "retain_storage_failures_total")
        let leading = Gauge(label: "retain_replication_leader")
        // SERVING (and /readyz 200) while the store takes writes: not during a storage failure
        // (a full disk, an I/O error) until it has recovered in place, and, replicated, only on
        // the shard's leader (a replica or a candidate answers NOT_SERVING).
        let updateHealth: @Sendable () -> Void = {
            let role = store.commitGate?.role
            var serving = store.condition == .available
            if let role {
                if case .leader = role {
                    leading.record(1)
                } else {
                    serving = false
                    leading.record(0)
                }
            }
            health.set("", serving ? .serving : .notServing)
        }
        store.onConditionChange { condition in
            available.record(condition == .available ? 1 : 0)
            if case .recovering = condition { failures.increment() }
            updateHealth()
        }
        var router = try makeRouter(store)
        var replicationServices: [any Service] = []
        var node: ReplicationNode?
        if let replication {
            let credentials = try options.serviceSecret().map { TokenMinter(secret: $0, configuration: .init(issuer: "replica")) }
            let replicationNode = try ReplicationNode(
                configuration: replication, log: store, credentials: credentials, clientTLS: memberTLS,
                logger: logger, onRoleChange: { _ in updateHealth() })
            router.merge(replicationNode.router)
            replicationServices.append(replicationNode)
            node = replicationNode
        }
        try await serve(
            name: name, router: router, options: options, tls: tls.server, logger: logger,
            services: [SnapshotScheduler(store, logger: logger)] + services + warning + tlsReloader(tls, logger: logger)
                + replicationServices,
            health: health, ops: ops,
            authenticator: authenticator
        ) { port, _ in
            if storage.replication.advertise == nil { node?.setAdvertise("\(options.host):\(port)") }
        }
        // Closed and durable: exit without releasing the state. Freeing millions of objects one
        // by one takes seconds (17 s for Growth at a million users); the kernel takes the memory
        // back at once.
        store.close()
        exit(EXIT_SUCCESS)
    }

    /// `retain.v1.Ledger` for `retain-ledger`.
    static func serviceName(executable name: String) -> String {
        let short = name.hasPrefix("retain-") ? String(name.dropFirst("retain-".count)) : name
        return "retain.v1." + short.prefix(1).uppercased() + short.dropFirst()
    }
}
