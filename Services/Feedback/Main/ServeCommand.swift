import ArgumentParser
import FeedbackCore
import FeedbackService
import Logging
import RetainServiceKit
import RetainWebhookDelivery
import RetainRPC

/// `retain-feedback serve`: serves retain.v1.Feedback until SIGTERM or SIGINT.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Serve retain.v1.Feedback.")

    @OptionGroup var options: ServerOptions
    @OptionGroup var storage: StorageOptions
    @OptionGroup var webhooks: WebhookOptions

    @Option(help: "Configuration file (JSON: routing rules, SLA minutes per priority, FAQ similarity); built-in rules when absent.")
    var config: String?

    func run() async throws {
        ServiceRunner.bootstrapLogging(level: options.logLevel)
        let logger = Logger(label: "retain.feedback")
        let configuration = try ConfigurationFile.load(
            config, defaults: { FeedbackConfiguration.standard },
            parse: { try FeedbackConfiguration.load(path: $0) })
        let deliverer = WebhookDeliverer<FeedbackState>(configuration: webhooks.configuration(for: FeedbackState.self), logger: logger)
        try await ServiceRunner.run(
            name: "retain-feedback", state: FeedbackState.self, options: options, storage: storage, logger: logger,
            services: [deliverer]
        ) { store in
            try FeedbackService.seedRules(
                store: store, configuration: configuration,
                origin: config.map { "feedback configuration \($0)" } ?? "built-in standard rules")
            deliverer.attach(store)
            var router = FeedbackService.router(store: store, configuration: configuration)
            router.merge(WebhooksEndpoint.router(store: store))
            return router
        }
    }
}
