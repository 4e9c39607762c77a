import Foundation
import RetainAuth
import RetainDemo
import RetainLauncher
import RetainProto
import RetainRPC
import Testing

/// The whole suite for integration tests: the four real services, each with a data directory
/// in a temporary root, and a real gateway in front of them (``LocalSuite``), with a client of
/// the gateway and one of each service directly (to check effects without the gateway). Every
/// call carries the credential from ``SuiteCredential`` (`RETAIN_AUTHORIZATION`).
final class SuiteHarness: Sendable {
    /// The suite the current test runs against (set by ``RunningSuite``).
    @TaskLocal static var current: SuiteHarness?

    let suite: LocalSuite
    let gateway: RPCClient
    let options: CallOptions
    private let direct: [LocalSuite.Service: RPCClient]

    init(configuration: LocalSuite.Configuration = .init()) throws {
        let suite = try LocalSuite(configuration: configuration)
        self.suite = suite
        // Credentials checked as in production: the admin API key for the gateway, tokens minted
        // with the suite's secret for the services called directly.
        var gatewayConfiguration = RPCClient.Configuration()
        gatewayConfiguration.credentials = suite.adminAuthorization.map { StaticCredentials($0) }
        gateway = RPCClient(host: "127.0.0.1", port: suite.gatewayPort, configuration: gatewayConfiguration)
        options = SuiteCredential.callOptions(timeout: .seconds(10))
        var directConfiguration = RPCClient.Configuration()
        directConfiguration.credentials = try suite.serviceSecret.map {
            TokenMinter(secret: try ServiceSecret($0), configuration: .init(issuer: "tests"))
        }
        direct = Dictionary(
            uniqueKeysWithValues: LocalSuite.Service.allCases.map { [directConfiguration] service in
                (service, RPCClient(host: "127.0.0.1", port: suite.port(of: service), configuration: directConfiguration))
            })
    }

    /// The running harness; fails the test when none is set.
    static func required() throws -> SuiteHarness {
        try #require(current, "the test needs the .runningSuite trait on its suite")
    }

    /// Calls the gateway (a flow, or a call it forwards).
    func call<I, O>(_ method: RPCMethod<I, O>, _ request: I) async throws -> O {
        try await gateway.unary(method, request, options: options)
    }

    /// Calls `service` directly, bypassing the gateway.
    func direct<I, O>(_ service: LocalSuite.Service, _ method: RPCMethod<I, O>, _ request: I) async throws -> O {
        try await direct[service]!.unary(method, request, options: options)
    }

    /// A user's balance of `asset`, read from the ledger directly (0 without an account).
    func balance(_ user: String, _ asset: String = "points") async throws -> Int64 {
        try await direct(.ledger, Retain_V1_Ledger.getBalance, .init(userId: user)).balances
            .first { $0.asset == asset }?.balance ?? 0
    }

    /// A user's postings by transfer id, read from the ledger directly.
    func postings(_ user: String) async throws -> [String: [Retain_V1_Posting]] {
        let statement = try await direct(.ledger, Retain_V1_Ledger.getStatement, .init(userId: user))
        return Dictionary(grouping: statement.postings, by: \.transferId)
    }

    /// Waits until the gateway reports every backend SERVING.
    func waitUntilServing() async throws {
        try await GatewayReadiness.wait(client: gateway, options: options)
    }

    func stop() async {
        await gateway.close()
        for client in direct.values { await client.close() }
        suite.stop()
    }
}

/// Starts one ``SuiteHarness`` for a whole test suite and stops it after the suite's last test.
struct RunningSuite: SuiteTrait, TestScoping {
    var isRecursive: Bool { false }

    func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void) async throws {
        let harness = try SuiteHarness()
        do {
            try await harness.waitUntilServing()
            try await SuiteHarness.$current.withValue(harness) { try await function() }
        } catch {
            await harness.stop()
            throw error
        }
        await harness.stop()
    }
}

extension Trait where Self == RunningSuite {
    /// Runs the suite's tests against one started suite of real processes.
    static var runningSuite: Self { RunningSuite() }
}
