import ArgumentParser
import Logging
import NIOCore
import ProfileCore
import ProfileService
import RetainServiceKit
import RetainWebhookDelivery
import RetainRPC

/// `retain-profile serve`: opens the data directory, serves retain.v1.Profile until SIGTERM or
/// SIGINT, and snapshots on the way out.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Serve retain.v1.Profile.")

    @OptionGroup var options: ServerOptions
    @OptionGroup var storage: StorageOptions
    @OptionGroup var webhooks: WebhookOptions

    @Option(name: .customLong("churn-sweep-ms"), help: "How often users newly at churn risk are looked for (churn_warning webhooks).")
    var churnSweepMs: Int = 60_000

    @Option(help: "Configuration file (JSON, see Services/Profile/Config/profile.json); defaults when absent.")
    var config: String?

    @Flag(inversion: .prefixedNo, help: "Take a snapshot on graceful shutdown, so that the next start is fast.")
    var snapshotOnExit = true

    @Option(name: .customLong("event-loops"), help: "Event loop threads (default: one per core).")
    var eventLoops: Int?

    func run() async throws {
        if let eventLoops {
            guard eventLoops >= 1 else { throw ValidationError("--event-loops must be at least 1") }
            NIOSingletons.groupLoopCountSuggestion = eventLoops
        }
        ServiceRunner.bootstrapLogging(level: options.logLevel)
        let logger = Logger(label: "retain.profile")
        let configuration = try ConfigurationFile.load(
            config, defaults: { ProfileConfiguration() },
            parse: { try ProfileConfiguration.load(path: $0) })
        guard churnSweepMs > 0 else { throw ValidationError("--churn-sweep-ms must be positive") }
        let finalSnapshot = SnapshotOnShutdown(logger: logger)
        let deliverer = WebhookDeliverer<ProfileState>(configuration: webhooks.configuration(for: ProfileState.self), logger: logger)
        let sweeper = ChurnWarningSweeper.service(configuration: configuration, interval: .milliseconds(churnSweepMs), logger: logger)
        try await ServiceRunner.run(
            name: "retain-profile", state: ProfileState.self, options: options, storage: storage, logger: logger,
            services: (snapshotOnExit ? [finalSnapshot] : []) + [deliverer, sweeper]
        ) { store in
            try ProfileRouter.prepare(
                store, configuration: configuration, origin: config.map { "profile configuration \($0)" } ?? "built-in standard rules")
            finalSnapshot.attach(store)
            deliverer.attach(store)
            sweeper.attach(store)
            var router = ProfileRouter(store: store, configuration: configuration).router()
            router.merge(WebhooksEndpoint.router(store: store))
            return router
        }
    }
}
