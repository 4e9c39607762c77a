import Foundation
import RetainProto
import RetainRPC

extension DemoScenario {
    /// The checkout experiment's variants: half control, half one-click.
    static var checkoutVariants: [Retain_V1_ExperimentVariant] {
        [.init(name: "control", weight: 1), .init(name: "one_click", weight: 1)]
    }

    /// Defines the run's checkout experiment the way an operator does: a new version of the
    /// profile rule set (admin) that keeps the version in force and adds the experiment
    /// (docs/CONFIG.md). Nothing is stored when the version in force defines it already.
    func defineCheckoutExperiment() async throws {
        let inForce = try await client.unary(
            Retain_V1_RuleSets.getRuleSet, Retain_V1_GetRuleSetRequest(service: "profile"), options: options)
        var document = (try? JSONSerialization.jsonObject(with: Data(inForce.version?.document ?? []))) as? [String: Any] ?? [:]
        var experiments = document["experiments"] as? [String: Any] ?? [:]
        guard experiments[experimentID] == nil else { return }
        experiments[experimentID] = [
            "description": "demo run \(configuration.runID): one-click checkout against the standard checkout",
            "variants": Self.checkoutVariants.map { ["name": $0.name, "weight": Int($0.weight)] as [String: Any] },
        ]
        document["experiments"] = experiments
        _ = try await client.unary(
            Retain_V1_RuleSets.setRuleSet,
            Retain_V1_SetRuleSetRequest(
                service: "profile", document: Array(try JSONSerialization.data(withJSONObject: document)),
                reason: "demo run \(configuration.runID): the checkout experiment"),
            options: options)
    }
}
