import ArgumentParser

/// `retain-console`: the operations console, a web application that shows the suite through
/// the gateway. `serve` (the default) runs it; its benchmark is `retain-bench console`.
@main
struct ConsoleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retain-console",
        abstract: "The operations console: retention, users, the feedback desk, levels and the ledger in a browser.",
        subcommands: [ServeCommand.self],
        defaultSubcommand: ServeCommand.self)
}
