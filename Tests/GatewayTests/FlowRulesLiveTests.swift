import Foundation
import RetainLauncher
import RetainProto
import RetainRPC
import RetainWire
import Testing

/// The rewards the flows pay as a live rule set kept by the Ledger ("flows") and read by the
/// gateway, on the real suite with credentials checked (docs/GATEWAY.md, docs/CONFIG.md).
@Suite("flow rules changed live", .serialized, .runningSuite)
struct FlowRulesLiveTests {
    /// `document` with the welcome bonus set to `value` points.
    static func welcome(_ document: [UInt8], value: Int) throws -> [UInt8] {
        var root = try #require(try JSONSerialization.jsonObject(with: Data(document)) as? [String: Any])
        var bonus = try #require(root["welcome_bonus"] as? [String: Any])
        var reward = try #require(bonus["reward"] as? [String: Any])
        reward["value"] = value
        bonus["reward"] = reward
        root["welcome_bonus"] = bonus
        return Array(try JSONSerialization.data(withJSONObject: root))
    }

    @Test(
        "the gateway stores its flows file as the ledger's version 1; a new welcome bonus is paid once set; a bad one is refused naming the field"
    )
    func welcomeBonusChangedLive() async throws {
        let suite = try SuiteHarness.required()
        func onboard(_ user: String) async throws -> Int64 {
            _ = try await suite.call(Retain_V1_Gateway.onboard, .init(userId: user, eventId: "ev-\(user)", channel: "organic"))
            return try await suite.balance(user)
        }
        #expect(try await onboard("fr-first") == 100)
        let first = try await suite.call(Retain_V1_RuleSets.getRuleSet, .init(service: "ledger", ruleSet: "flows"))
        let version = try #require(first.version)
        #expect(version.version == 1 && version.author == "gateway", "\(version.author)")

        let refused = await #expect(throws: RPCError.self) {
            _ = try await suite.call(
                Retain_V1_RuleSets.setRuleSet,
                .init(service: "ledger", ruleSet: "flows", document: try Self.welcome(version.document, value: 0), reason: "free"))
        }
        #expect(refused?.code == .invalidArgument)
        #expect(refused?.details["field"] == "document.welcome_bonus.reward.value", "\(refused.map { "\($0)" } ?? "")")

        let set = try await suite.call(
            Retain_V1_RuleSets.setRuleSet,
            .init(
                service: "ledger", ruleSet: "flows", document: try Self.welcome(version.document, value: 250),
                reason: "bigger welcome"))
        #expect(set.version?.version == 2)
        // Within the gateway's refresh (1 s) the new bonus is paid, and from then on always.
        let deadline = ContinuousClock.now + .seconds(10)
        var index = 0
        while try await onboard("fr-wait-\(index)") != 250 {
            index += 1
            #expect(ContinuousClock.now < deadline, "the gateway still pays the old bonus")
            if ContinuousClock.now >= deadline { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        for user in ["fr-after-1", "fr-after-2"] { #expect(try await onboard(user) == 250) }
        let history = try await suite.direct(
            .ledger, Retain_V1_RuleSets.listRuleSetVersions, .init(service: "ledger", ruleSet: "flows")
        ).versions
        #expect(history.map(\.reason).last == "bigger welcome" && history.count == 2)
    }
}
