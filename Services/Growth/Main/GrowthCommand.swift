import ArgumentParser

/// `retain-growth`: serves the Growth service (`serve`, the default) or checks a configuration
/// file (`check-config`). Its benchmark is `retain-bench growth`.
@main
struct GrowthCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retain-growth",
        abstract: "The Growth service: levels, growth points, check-ins, tasks, leaderboards.",
        subcommands: [ServeCommand.self, CheckConfigCommand.self],
        defaultSubcommand: ServeCommand.self)
}
