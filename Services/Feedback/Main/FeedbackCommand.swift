import ArgumentParser

/// `retain-feedback`: suggestions, complaints, bugs and questions, routed, prioritised, worked
/// through a workflow, answered and compensated. `serve` (the default) runs it; its benchmark is
/// `retain-bench feedback`.
@main
struct FeedbackCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retain-feedback",
        abstract: "The user-problem system: feedback items, their workflow, FAQ and statistics.",
        subcommands: [ServeCommand.self],
        defaultSubcommand: ServeCommand.self)
}
