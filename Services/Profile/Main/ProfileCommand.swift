import ArgumentParser

/// `retain-profile`: serves the Profile service (`serve`, the default). Its benchmarks are
/// `retain-bench profile` and `retain-bench profile-state`.
@main
struct ProfileCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retain-profile",
        abstract: "Retain's user profiles: registration, activity, lifecycle, segments, retention, contact caps, A/B.",
        subcommands: [ServeCommand.self], defaultSubcommand: ServeCommand.self)
}
