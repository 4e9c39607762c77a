import ArgumentParser

/// `retain-gateway`: the suite's single entry point. Its benchmark is `retain-bench gateway`.
@main
struct GatewayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retain-gateway",
        abstract: "Serve retain.v1.Gateway: route every service's calls to their instances and run the cross-service flows.",
        subcommands: [ServeCommand.self, CheckCommand.self, MakeKeyCommand.self, MintTokenCommand.self],
        defaultSubcommand: ServeCommand.self)
}
