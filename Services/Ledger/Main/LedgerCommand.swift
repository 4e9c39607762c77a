import ArgumentParser

/// `retain-ledger`: the incentive ledger. `serve` (the default) runs it; `retain-bench ledger`
/// measures it beside PostgreSQL doing the same double-entry transfer.
@main
struct LedgerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retain-ledger",
        abstract: "Points, coupons and credit, double-entry, never lost, never twice.",
        subcommands: [ServeCommand.self],
        defaultSubcommand: ServeCommand.self)
}
