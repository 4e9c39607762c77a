public import Logging
import NIOCore
public import RetainRPC
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
}
