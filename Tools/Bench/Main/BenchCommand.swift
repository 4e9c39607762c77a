import ArgumentParser
import ConsoleBench
import FeedbackBench
import GatewayBench
import GrowthBench
import LedgerBench
import ProfileBench

/// `retain-bench`: benchmarks that print figures beside their anchors, measured in one run. The
/// services' benchmarks start the service executables built beside it (`swift build -c release`
/// builds them all).
@main
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retain-bench",
        abstract: "Retain's benchmarks, each beside its anchor on the same machine in one run.",
        subcommands: [
            EchoBenchmark.self, GRPCEchoBenchmark.self, GRPCFrontDoorBenchmark.self, LedgerBenchmark.self, ProfileBenchmark.self,
            ProfileStateBenchmark.self, GrowthBenchCommand.self, GrowthStateBenchmark.self, GatewayBenchmark.self, ClusterBenchmark.self,
            ReshardBenchmark.self,
            FeedbackBenchmark.self, ConsoleBenchmark.self,
            BareEchoServer.self, FixedCallsCommand.self,
        ])
}
