import ArgumentParser

/// `retain-ledger`: the incentive ledger. `serve` (the default) runs it; `bench` measures it
/// beside PostgreSQL doing the same double-entry transfer.
@main
struct LedgerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retain-ledger",
        abstract: "Points, coupons and credit, double-entry, never lost, never twice.",
        subcommands: [ServeCommand.self, BenchCommand.self],
        defaultSubcommand: ServeCommand.self)
}
