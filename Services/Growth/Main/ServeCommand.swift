import ArgumentParser
import Foundation
import GrowthCore
import GrowthService
import Logging
import RetainServiceKit
import RetainState
import Synchronization

/// `retain-growth serve`: serves retain.v1.Growth until SIGTERM or SIGINT.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Serve retain.v1.Growth.")

    @OptionGroup var options: ServerOptions
    @OptionGroup var storage: StorageOptions

    @Option(name: .customLong("config"), help: "Growth configuration file (JSON); default: the built-in standard rules.")
    var configPath: String?

    @Flag(name: .customLong("allow-client-times"), help: "Honour client times however far from the clock (tests, demo).")
    var allowClientTimes = false

    @Option(name: .customLong("clock-skew-ms"), help: "How far client times may be from the server's clock.")
    var clockSkewMs: Int64 = 300_000

    @Option(name: .customLong("heartbeat-ms"), help: "Heartbeat interval of idle WatchLevelChanges streams.")
    var heartbeatMs: Int = 10_000

    func run() async throws {
        ServiceRunner.bootstrapLogging(level: options.logLevel)
        let logger = Logger(label: "retain.growth")
        let rules: GrowthRules
        do {
            rules = try GrowthRules.load(path: configPath)
        } catch {
            FileHandle.standardError.write(Data("retain-growth: \(error)\n".utf8))
            throw ExitCode.failure
        }
        logger.info("growth rules loaded", metadata: [
            "config": "\(configPath ?? "standard")", "version": "\(rules.version)", "tiers": "\(rules.tiers.count)",
        ])
        var configuration = GrowthService.Configuration()
        configuration.allowClientTimes = allowClientTimes
        configuration.clockSkewMs = clockSkewMs
        configuration.heartbeatInterval = .milliseconds(heartbeatMs)
        let notifier = LevelEventNotifier()
        let kept = KeptStore()
        try await ServiceRunner.run(name: "retain-growth", state: GrowthState.self, options: options, storage: storage,
                                    logger: logger, services: [notifier]) { store in
            kept.store.withLock { $0 = store }
            return try GrowthService(store: store, rules: rules, notifier: notifier, configuration: configuration).router
        }
        // The store is closed and durable. Exit without releasing the state: freeing millions of
        // objects one by one takes seconds (17 s at a million users), the kernel takes the memory
        // back at once.
        Foundation.exit(EXIT_SUCCESS)
    }
}

/// Holds the store past the runner's return, so that the state is not freed before exiting.
private final class KeptStore: Sendable {
    let store = Mutex<StateStore<GrowthState>?>(nil)
}
