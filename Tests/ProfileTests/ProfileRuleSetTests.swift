import Foundation
import ProfileCore
import RetainProcess
import RetainProto
import RetainRPC
import RetainWire
import Testing

/// Profile's lifecycle thresholds as a live rule set (retain.v1.RuleSets) on a real
/// `retain-profile`: a user's stage follows the version in force; refusals name the field.
@Suite("profile lifecycle thresholds changed live", .serialized)
struct ProfileRuleSetTests {
    @Test("a new user stops being new when new_days drops to 0, and is new again after a rollback; bad thresholds are refused")
    func lifecycleChangedLive() async throws {
        let directory = try makeTemporaryDirectory("profile-rulesets")
        defer { try? FileManager.default.removeItem(at: directory) }
        let server = try ServerProcess(
            "retain-profile", arguments: ["--data-dir", directory.path, "--log-level", "warning", "--ops-port=-1"])
        defer { server.stop() }
        let client = RPCClient(host: "127.0.0.1", port: server.port)
        defer { Task { await client.close() } }

        _ = try await client.unary(Retain_V1_Profile.registerUser, .init(userId: "u1", requestId: "r1", channel: "app"))
        func stage() async throws -> Retain_V1_LifecycleStage {
            try await client.unary(Retain_V1_Profile.getLifecycle, .init(userId: "u1")).stage
        }
        #expect(try await stage() == .new)
        let first = try await client.unary(Retain_V1_RuleSets.getRuleSet, .init(service: "profile"))
        #expect(first.version?.version == 1 && first.version?.reason == "built-in standard rules")
        let text = String(decoding: first.version?.document ?? [], as: UTF8.self)
        #expect(text.contains("\"new_days\" : 7"), "\(text)")

        let set = try await client.unary(
            Retain_V1_RuleSets.setRuleSet,
            .init(service: "profile", document: Array(#"{"lifecycle": {"new_days": 0}}"#.utf8), reason: "no honeymoon"))
        #expect(set.version?.version == 2)
        #expect(try await stage() != .new)
        _ = try await client.unary(Retain_V1_RuleSets.rollbackRuleSet, .init(service: "profile", toVersion: 1))
        #expect(try await stage() == .new)

        for (document, field) in [
            (#"{"lifecycle": {"churned_days": 3}}"#, "document.lifecycle.churned_days"),
            (#"{"lifecycle": {"silentdays": 3}}"#, "document.lifecycle.silentdays"),
            (#"{"lifecycle": {"new_days": "seven"}}"#, "document.lifecycle.new_days"),
            (#"{"activation": {}}"#, "document.activation"),
        ] {
            let refused = await #expect(throws: RPCError.self) {
                _ = try await client.unary(
                    Retain_V1_RuleSets.setRuleSet, .init(service: "profile", document: Array(document.utf8), reason: "bad"))
            }
            #expect(refused?.code == .invalidArgument)
            #expect(refused?.details["field"] == field, "\(refused.map { "\($0)" } ?? "")")
        }
        let versions = try await client.unary(Retain_V1_RuleSets.listRuleSetVersions, .init(service: "profile")).versions
        #expect(versions.map(\.version) == [1, 2, 3])
    }
}
