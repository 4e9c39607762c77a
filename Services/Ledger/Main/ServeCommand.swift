import ArgumentParser
import LedgerCore
import LedgerService
import Logging
import RetainServiceKit

/// `retain-ledger serve`: serves retain.v1.Ledger until SIGTERM or SIGINT.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Serve retain.v1.Ledger.")

    @OptionGroup var options: ServerOptions
    @OptionGroup var storage: StorageOptions

    @Option(help: "Ledger configuration file (JSON: sweepIntervalMs, expiryBatchLimit).")
    var config: String?

    func run() async throws {
        ServiceRunner.bootstrapLogging(level: options.logLevel)
        let logger = Logger(label: "retain.ledger")
        let configuration = try ConfigurationFile.load(
            config, defaults: { LedgerConfiguration() },
            parse: { try LedgerConfiguration.load(path: $0) })
        let sweeper = LedgerSweeper.service(configuration: configuration, logger: logger)
        try await ServiceRunner.run(
            name: "retain-ledger", state: LedgerState.self, options: options, storage: storage, logger: logger,
            services: [sweeper]
        ) { store in
            sweeper.attach(store)
            return LedgerService.router(store: store)
        }
    }
}
