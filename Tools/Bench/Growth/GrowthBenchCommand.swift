package import ArgumentParser

/// `retain-bench growth`: starts its own `retain-growth` on loopback and prints awards per
/// second over the wire and leaderboard query latency at many users. Build with `-c release`.
package struct GrowthBenchCommand: AsyncParsableCommand {
    package static let configuration = CommandConfiguration(
        commandName: "growth",
        abstract: "Measure awards per second over the wire and leaderboard latency (build with -c release).")

    @Option(help: "Users to create, one award each.")
    var users: Int = 1_000_000

    @Option(help: "TCP connections to the server.")
    var connections: Int = 4

    @Option(help: "Calls in flight at once.")
    var concurrency: Int = 64

    @Option(name: .customLong("existing-awards"), help: "Awards to existing users after the users are created.")
    var existingAwards: Int = 200_000

    @Option(help: "Calls per leaderboard query kind (one at a time, for latency).")
    var queries: Int = 2_000

    @Option(help: "The server's --durability: always or interval:<ms>.")
    var durability: String = "always"

    @Flag(name: .customLong("skip-restart"), help: "Do not measure a restart with all the users.")
    var skipRestart = false

    @Flag(name: .customLong("server-snapshots"), help: "Let the server take snapshots during the run (default policy).")
    var serverSnapshots = false

    package init() {}

    package func run() async throws {
        let benchmark = GrowthBenchmark(
            users: users, connections: connections, concurrency: concurrency, existingAwards: existingAwards,
            queries: queries, durability: durability, measureRestart: !skipRestart,
            serverSnapshots: serverSnapshots)
        try await benchmark.run()
    }
}
