public import ArgumentParser
import Foundation
import RetainCommands
import RetainLauncher
import RetainRPC

/// `retain demo`: the demo scenario driven through a gateway: a running one (`--gateway`), or a
/// whole suite it starts in a temporary directory and stops at the end.
public struct DemoCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract:
            "Simulate users arriving, coming back, buying, inviting and complaining over weeks, through the gateway; print retention, levels, points and feedback."
    )

    @Option(help: "Simulated users.") var users: Int = 3_000
    @Option(help: "Simulated weeks, ending at the start of today (UTC).") var weeks: Int = 6
    @Option(help: "Seed of the simulation's random choices.") var seed: UInt64 = 1
    @Option(help: "Calls in flight at once.") var concurrency: Int = 64

    @Option(
        name: .customLong("expiry-sweep-days"),
        help: "Run the ledger's expiry as of this many days after the last simulated day (0: none).")
    var expirySweepDays: Int = 60

    @Option(help: "A running gateway (HOST:PORT, e.g. 127.0.0.1:7000 after `make up`); default: start a suite in a temporary directory.")
    var gateway: ServerAddress?

    @Option(help: "Credential sent with every call (default: $RETAIN_AUTHORIZATION).")
    var authorization: String?

    @Option(name: .customLong("bin-dir"), help: "Where the retain-* executables are (default: next to this one).")
    var binDirectory: String?

    @Option(help: "Durability of the services the demo starts: always or interval:<ms>.")
    var durability: String = "always"

    public init() {}

    public func validate() throws {
        guard (1...1_000_000).contains(users) else { throw ValidationError("--users must be 1 to 1,000,000") }
        guard (1...52).contains(weeks) else { throw ValidationError("--weeks must be 1 to 52") }
        guard (1...1024).contains(concurrency) else { throw ValidationError("--concurrency must be 1 to 1024") }
        guard expirySweepDays >= 0 else { throw ValidationError("--expiry-sweep-days must not be negative") }
    }

    public func run() async throws {
        var suite: LocalSuite?
        let address: ServerAddress
        if let gateway {
            address = gateway
            print("demo: driving the gateway at \(gateway)")
        } else {
            var configuration = LocalSuite.Configuration()
            configuration.binDirectory = binDirectory.map { URL(fileURLWithPath: $0) }
            configuration.durability = durability
            print("demo: starting retain-profile, retain-growth (client times allowed), retain-ledger, retain-feedback and retain-gateway")
            let started = try LocalSuite(configuration: configuration)
            suite = started
            address = ServerAddress(argument: "127.0.0.1:\(started.gatewayPort)")!
            print("demo: suite running in \(started.root.path), gateway on \(address)")
        }
        defer { suite?.stop() }
        var clientConfiguration = RPCClient.Configuration()
        clientConfiguration.connectionsPerAddress = 2
        // A suite the demo started itself checks credentials: its admin key, unless one is given.
        if authorization == nil, let key = suite?.adminAuthorization {
            clientConfiguration.credentials = StaticCredentials(key)
        }
        let client = RPCClient(host: address.host, port: address.port, configuration: clientConfiguration)
        let options = SuiteCredential.callOptions(authorization)
        try await GatewayReadiness.wait(client: client, options: options)

        var configuration = DemoScenario.Configuration()
        configuration.users = users
        configuration.weeks = weeks
        configuration.seed = seed
        configuration.concurrency = concurrency
        configuration.expirySweepDays = expirySweepDays
        let report = try await DemoScenario(client: client, options: options, configuration: configuration) { line in
            print(line)
            fflush(nil)
        }.run()
        print("")
        print(report.text)
        await client.close()
        if report.activity.failed > 0 {
            throw ExitCode(1)
        }
    }
}
