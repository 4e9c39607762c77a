import ArgumentParser
import Foundation
import GrowthCore
import GrowthService
import Logging
import RetainServiceKit
import RetainWebhookDelivery
import RetainRPC

/// `retain-growth serve`: serves retain.v1.Growth until SIGTERM or SIGINT.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Serve retain.v1.Growth.")

    @OptionGroup var options: ServerOptions
    @OptionGroup var storage: StorageOptions
    @OptionGroup var webhooks: WebhookOptions

    @Option(name: .customLong("config"), help: "Growth configuration file (JSON); default: the built-in standard rules.")
    var configPath: String?

    @Flag(name: .customLong("allow-client-times"), help: "Honour client times however far from the clock (tests, demo).")
    var allowClientTimes = false

    @Option(name: .customLong("clock-skew-ms"), help: "How far client times may be from the server's clock.")
    var clockSkewMs: Int64 = 300_000

    @Option(name: .customLong("heartbeat-ms"), help: "Heartbeat interval of idle WatchLevelChanges streams.")
    var heartbeatMs: Int = 10_000

    @Option(
        name: .customLong("level-review-ms"), help: "How often keep-up reviews that came due are decided (when the rules review tiers).")
    var levelReviewMs: Int = 60_000

    func run() async throws {
        ServiceRunner.bootstrapLogging(level: options.logLevel)
        let logger = Logger(label: "retain.growth")
        let rules = try ConfigurationFile.load(
            configPath, defaults: { GrowthRules.standard },
            parse: { try GrowthRules.load(path: $0) })
        logger.info(
            "growth rules loaded",
            metadata: [
                "config": "\(configPath ?? "standard")", "version": "\(rules.version)", "tiers": "\(rules.tiers.count)",
            ])
        var configuration = GrowthService.Configuration()
        configuration.allowClientTimes = allowClientTimes
        configuration.clockSkewMs = clockSkewMs
        configuration.heartbeatInterval = .milliseconds(heartbeatMs)
        if let configPath { configuration.rulesOrigin = "growth configuration \(configPath)" }
        let notifier = LevelEventNotifier()
        let deliverer = WebhookDeliverer<GrowthState>(configuration: webhooks.configuration(for: GrowthState.self), logger: logger)
        guard levelReviewMs > 0 else { throw ValidationError("--level-review-ms must be positive") }
        let reviewer = LevelReviewSweeper.service(rules: rules, notifier: notifier, interval: .milliseconds(levelReviewMs), logger: logger)
        try await ServiceRunner.run(
            name: "retain-growth", state: GrowthState.self, options: options, storage: storage,
            logger: logger, services: [notifier, deliverer, reviewer]
        ) { store in
            deliverer.attach(store)
            reviewer.attach(store)
            var router = try GrowthService(store: store, rules: rules, notifier: notifier, configuration: configuration).router
            router.merge(WebhooksEndpoint.router(store: store))
            return router
        }
    }
}
