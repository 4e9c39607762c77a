import ArgumentParser

/// `retain-profile`: serves the Profile service (`serve`, the default) or benchmarks it (`bench`).
@main
struct ProfileCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retain-profile",
        abstract: "Retain's user profiles: registration, activity, lifecycle, segments, retention, contact caps, A/B.",
        subcommands: [ServeCommand.self, BenchCommand.self, StateBenchCommand.self], defaultSubcommand: ServeCommand.self)
}
