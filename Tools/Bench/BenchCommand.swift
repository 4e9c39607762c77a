import ArgumentParser

/// `retain-bench`: benchmarks that print figures beside their anchors, measured in one run.
@main
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retain-bench",
        abstract: "Retain's benchmarks, each beside its anchor on the same machine in one run.",
        subcommands: [EchoBenchmark.self, GRPCEchoBenchmark.self, BareEchoServer.self, FixedCallsCommand.self])
}
