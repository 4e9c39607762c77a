public import Logging
import NIOCore
public import RetainRPC
public import RetainState
public import ServiceLifecycle
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

    /// Starts the server, prints `listening on HOST:PORT` on standard output (tests and the
    /// launcher read it), and runs until a shutdown signal.
    public static func run(
        name: String, router: RPCRouter, options: ServerOptions, logger: Logger,
        services: [any Service] = []
    ) async throws {
        var configuration = RPCServer.Configuration()
        configuration.host = options.host
        configuration.port = options.port
        configuration.maximumPayloadSize = options.maximumFrameBytes
        configuration.maximumConcurrentCallsPerConnection = options.maximumConcurrentCalls
        configuration.maximumConnections = options.maximumConnections
        configuration.frameTimeout = .milliseconds(options.frameTimeoutMilliseconds)
        configuration.idleTimeout = .milliseconds(options.idleTimeoutMilliseconds)
        let server = RPCServer(router: router, configuration: configuration, logger: logger)
        let address = try await server.start()
        print("\(name) listening on \(options.host):\(address.port ?? options.port)")
        fflush(nil)
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: server)] + services.map { .init(service: $0) },
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
        if options.dataDirectory == nil {
            logger.warning("no --data-dir: state is kept in memory only and lost on exit")
        }
        let store = try StateStore<S>(directory: options.dataDirectory, configuration: storage.configuration(),
                                      logger: logger)
        defer { store.close() }
        try await run(name: name, router: try makeRouter(store), options: options, logger: logger,
                      services: [SnapshotScheduler(store, logger: logger)] + services)
    }
}
