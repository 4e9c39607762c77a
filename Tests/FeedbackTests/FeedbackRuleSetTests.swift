import Foundation
import RetainProcess
import RetainProto
import RetainRPC
import RetainWire
import Testing

/// The feedback rules as a live rule set (retain.v1.RuleSets) on a real `retain-feedback`:
/// routing changed while it runs, refusals naming the field, the history kept across kill -9.
@Suite("feedback rules changed live", .serialized)
struct FeedbackRuleSetTests {
    static func start(_ data: URL) throws -> ServerProcess {
        try ServerProcess(
            "retain-feedback", arguments: ["serve", "--data-dir", data.path, "--log-level", "warning", "--ops-port=-1"])
    }

    @Test("a new routing rule applies to the next submission; a bad SLA is refused naming it; the history survives kill -9")
    func routingChangedLive() async throws {
        let directory = try makeTemporaryDirectory("feedback-rulesets")
        defer { try? FileManager.default.removeItem(at: directory) }
        let data = directory.appendingPathComponent("data")
        var server = try Self.start(data)
        var client = RPCClient(host: "127.0.0.1", port: server.port)

        // Version 1: the built-in rules, whose document reads back and compiles unchanged.
        let first = try await client.unary(Retain_V1_RuleSets.getRuleSet, .init(service: "feedback"))
        #expect(first.version?.version == 1 && first.version?.author == "file")
        let same = try await client.unary(
            Retain_V1_RuleSets.setRuleSet,
            .init(service: "feedback", document: first.version?.document ?? [], reason: "built-in standard rules"))
        #expect(same.version?.version == 1)

        func submit(_ key: String) async throws -> String {
            try await client.unary(
                Retain_V1_Feedback.submitFeedback,
                .init(userId: "u1", requestId: key, kind: .complaint, category: "gift", text: "Where is my gift?", channel: "app")
            ).item?.team ?? ""
        }
        #expect(try await submit("s1") == "support")
        let routed = #"{"routing": {"default_team": "support", "rules": [{"category": "gift", "team": "concierge"}]}}"#
        let set = try await client.unary(
            Retain_V1_RuleSets.setRuleSet, .init(service: "feedback", document: Array(routed.utf8), reason: "gifts to concierge"))
        #expect(set.version?.version == 2)
        #expect(try await submit("s2") == "concierge")

        let bad = #"{"sla_minutes": {"urgent": 0}}"#
        let refused = await #expect(throws: RPCError.self) {
            _ = try await client.unary(
                Retain_V1_RuleSets.setRuleSet, .init(service: "feedback", document: Array(bad.utf8), reason: "no SLA"))
        }
        #expect(refused?.code == .invalidArgument)
        #expect(refused?.details["field"] == "document.sla_minutes.urgent", "\(refused.map { "\($0)" } ?? "")")
        let wrongRuleSet = await #expect(throws: RPCError.self) {
            _ = try await client.unary(Retain_V1_RuleSets.getRuleSet, .init(service: "feedback", ruleSet: "growth"))
        }
        #expect(wrongRuleSet?.details["field"] == "rule_set")

        let before = try await client.unary(
            Retain_V1_RuleSets.listRuleSetVersions, .init(service: "feedback", includeDocuments: true)
        ).versions
        #expect(before.map(\.version) == [1, 2])
        server.kill()
        await client.close()
        server = try Self.start(data)
        client = RPCClient(host: "127.0.0.1", port: server.port)
        defer {
            server.stop()
            Task { [client] in await client.close() }
        }
        let after = try await client.unary(
            Retain_V1_RuleSets.listRuleSetVersions, .init(service: "feedback", includeDocuments: true)
        ).versions
        #expect(after == before)
        #expect(try await submit("s3") == "concierge")
    }
}
