import ArgumentParser

/// `retain-growth`: serves the Growth service (`serve`, the default), checks a configuration
/// file (`check-config`) or measures the service (`bench`).
@main
struct GrowthCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retain-growth",
        abstract: "The Growth service: levels, growth points, check-ins, tasks, leaderboards.",
        subcommands: [ServeCommand.self, CheckConfigCommand.self, BenchCommand.self],
        defaultSubcommand: ServeCommand.self)
}
