import Foundation
import RetainAuth
import RetainDemo
import RetainLauncher
import RetainProto
import RetainRPC
import Testing

/// A rule-set version is a log entry like any other: the replicas of a replicated shard hold the
/// same history as its leader (`retain up --replicas 2`, real executables, etcd).
@Suite(
    "live configuration on replicated shards", .serialized,
    .enabled(if: ReplicationSupport.servicesReplicate, "the services do not take --etcd-endpoints yet"))
struct LiveConfigurationReplicaTests {
    @Test("a growth rule set set through the gateway reaches the leader and its replica with the same versions")
    func replicaHasTheSameHistory() async throws {
        var configuration = LocalSuite.Configuration()
        configuration.replicas = 2
        let suite = try LocalSuite(configuration: configuration)
        defer { _ = suite.stop() }
        var gatewayConfiguration = RPCClient.Configuration()
        gatewayConfiguration.credentials = suite.adminAuthorization.map { StaticCredentials($0) }
        let gateway = RPCClient(host: "127.0.0.1", port: suite.gatewayPort, configuration: gatewayConfiguration)
        defer { Task { await gateway.close() } }
        let options = CallOptions(timeout: .seconds(20))
        let leader = try await suite.waitForLeader(of: .growth)
        try await GatewayReadiness.wait(client: gateway, options: options, timeout: .seconds(60))

        let document =
            #"{"tiers": [{"name": "A", "min_growth": 0}, {"name": "B", "min_growth": 30}], "actions": [{"action": "tick", "growth": 10}]}"#
        let set = try await gateway.unary(
            Retain_V1_RuleSets.setRuleSet, .init(service: "growth", document: Array(document.utf8), reason: "replicated"),
            options: options)
        #expect(set.version?.version == 2)

        // Each member read directly, the replica with a replica read, once it caught up.
        let minter = TokenMinter(secret: try ServiceSecret(try #require(suite.serviceSecret)), configuration: .init(issuer: "tests"))
        var histories: [String: [Retain_V1_RuleSetVersion]] = [:]
        for member in suite.members(of: .growth) {
            var memberConfiguration = RPCClient.Configuration()
            memberConfiguration.credentials = StaticCredentials(minter.authorization(subject: "tests", scopes: [.admin]))
            let client = RPCClient(host: "127.0.0.1", port: suite.port(of: member), configuration: memberConfiguration)
            let deadline = ContinuousClock.now + .seconds(20)
            var versions: [Retain_V1_RuleSetVersion] = []
            while ContinuousClock.now < deadline {
                versions =
                    (try? await client.unary(
                        Retain_V1_RuleSets.listRuleSetVersions, .init(service: "growth", includeDocuments: true),
                        options: CallOptions(timeout: .seconds(5), metadata: ["read-from": "replica"])
                    ).versions) ?? []
                if versions.count == 2 { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            await client.close()
            histories[member.name] = versions
        }
        #expect(histories.count == 2)
        let leaderHistory = try #require(histories[leader.name])
        #expect(leaderHistory.map(\.reason) == ["built-in standard rules", "replicated"])
        for (name, history) in histories { #expect(history == leaderHistory, "\(name) differs from the leader \(leader.name)") }
    }
}
