import Foundation
@testable import ProfileCore
import RetainProto
import RetainRuleSets
import RetainWire
import Testing

@Suite("A/B assignment: experiments defined by configuration, assignments sticky")
struct ExperimentTests {
    let variants = [
        Retain_V1_ExperimentVariant(name: "control", weight: 50),
        Retain_V1_ExperimentVariant(name: "treatment", weight: 50),
    ]
    let allTreatment = [
        Retain_V1_ExperimentVariant(name: "control", weight: 0),
        Retain_V1_ExperimentVariant(name: "treatment", weight: 1),
    ]

    func assign(
        _ state: inout ProfileState, _ user: String, _ variants: [Retain_V1_ExperimentVariant] = [], at: Int64 = monday,
        experiment: String = "checkout-button"
    ) throws -> Retain_V1_AssignVariantResponse {
        let plan = try state.planAssignment(
            Retain_V1_AssignVariantRequest(userId: user, experimentId: experiment, variants: variants), now: at)
        if let entry = plan.entry { try state.apply(entry) }
        return plan.response
    }

    /// A fixture with users alice, bob and carol, and the experiment defined 50/50 at `monday`.
    func defined() throws -> ProfileFixture {
        var fixture = ProfileFixture()
        for user in ["alice", "bob", "carol"] { try fixture.register(user) }
        try fixture.state.defineExperiments(["checkout-button": variants], at: monday)
        return fixture
    }

    @Test("the bucket is the first 8 bytes of SHA-256(experiment:user) modulo 10,000")
    func bucket() {
        #expect(Experiment.bucket(experimentID: "checkout-button", userID: "alice") == 1370)
        #expect(Experiment.bucket(experimentID: "checkout-button", userID: "bob") == 6590)
        #expect(Experiment.variant(for: 1370, in: variants) == "control")
        #expect(Experiment.variant(for: 6590, in: variants) == "treatment")
        #expect(Experiment.variant(for: 4999, in: variants) == "control")
        #expect(Experiment.variant(for: 5000, in: variants) == "treatment")
    }

    @Test("a new rule-set version re-weights: assigned users stay, new users follow it, answers name the version")
    func reweightThroughConfiguration() throws {
        var fixture = try defined()
        let first = try assign(&fixture.state, "alice")
        #expect(first.variant == "control")
        #expect(!first.sticky)
        #expect(first.definitionVersion == 1)
        try fixture.state.defineExperiments(["checkout-button": allTreatment], at: monday + day)
        let again = try assign(&fixture.state, "alice", at: monday + day)
        #expect(again.variant == "control")
        #expect(again.sticky)
        #expect(again.assignedAtMs == monday)
        #expect(again.definitionVersion == 2)
        let bob = try assign(&fixture.state, "bob", at: monday + day)
        #expect(bob.variant == "treatment")
        #expect(bob.definitionVersion == 2)
        #expect(try assign(&fixture.state, "carol", allTreatment, at: monday + day).variant == "treatment", "the definition repeated")
    }

    @Test("a caller cannot change the weights: different variants are FAILED_PRECONDITION and nothing is stored")
    func callerCannotRedefine() throws {
        var fixture = try defined()
        let error = rpcError { _ = try assign(&fixture.state, "bob", allTreatment) }
        #expect(error?.code == .failedPrecondition)
        #expect(error?.message.contains("profile rule set version 1") == true)
        #expect(fixture.state.experiments["checkout-button"]?.assignments.isEmpty ?? true, "nothing assigned")
        // Before the fix the request re-weighted the experiment for everyone after it.
        #expect(try assign(&fixture.state, "bob").variant == Experiment.variant(for: 6590, in: variants))
        let reordered = [variants[1], variants[0]]
        #expect(rpcError { _ = try assign(&fixture.state, "carol", reordered) }?.code == .failedPrecondition, "order is part of it")
    }

    @Test("an experiment defined nowhere is NOT_FOUND, with or without variants")
    func undefined() throws {
        var fixture = ProfileFixture()
        try fixture.register("alice")
        let error = rpcError { _ = try assign(&fixture.state, "alice") }
        #expect(error?.code == .notFound)
        #expect(error?.message.contains("experiment") == true)
        // Before, the first call with variants defined the experiment, whoever called.
        #expect(rpcError { _ = try assign(&fixture.state, "alice", variants) }?.code == .notFound)
        #expect(fixture.state.experiments.isEmpty)
    }

    @Test("weights split users in proportion")
    func proportions() throws {
        var fixture = ProfileFixture()
        let weighted = [Retain_V1_ExperimentVariant(name: "a", weight: 1), Retain_V1_ExperimentVariant(name: "b", weight: 3)]
        try fixture.state.defineExperiments(["checkout-button": weighted], at: monday)
        var counts: [String: Int] = [:]
        for number in 0..<4000 {
            try fixture.register("user\(number)")
            counts[try assign(&fixture.state, "user\(number)").variant, default: 0] += 1
        }
        #expect((900...1100).contains(counts["a"] ?? 0))
        #expect((2900...3100).contains(counts["b"] ?? 0))
    }

    @Test("removed from the rule set: assigned users keep their variant, new users are refused until it is defined again")
    func removed() throws {
        var fixture = try defined()
        #expect(try assign(&fixture.state, "alice").variant == "control")
        try fixture.state.defineExperiments([:], at: monday + day)
        let sticky = try assign(&fixture.state, "alice", at: monday + day)
        #expect(sticky.sticky && sticky.variant == "control")
        let refused = rpcError { _ = try assign(&fixture.state, "bob", at: monday + day) }
        #expect(refused?.code == .failedPrecondition)
        #expect(refused?.message.contains("removed") == true)
        try fixture.state.defineExperiments(["checkout-button": allTreatment], at: monday + 2 * day)
        #expect(try assign(&fixture.state, "bob", at: monday + 2 * day).variant == "treatment")
    }

    @Test("a version effective later governs assignments from then on; before, the version in force does")
    func effectiveLater() throws {
        var fixture = try defined()
        try fixture.state.defineExperiments(["checkout-button": allTreatment], at: monday + day, effectiveFrom: monday + 3 * day)
        let before = try assign(&fixture.state, "alice", at: monday + 2 * day)
        #expect(before.variant == "control")
        #expect(before.definitionVersion == 1)
        let after = try assign(&fixture.state, "carol", at: monday + 3 * day)
        #expect(after.variant == "treatment")
        #expect(after.definitionVersion == 2)
    }

    @Test("an experiment AssignVariant defined before keeps its stored weights, cannot be changed by a caller, and yields to configuration")
    func legacyDefinition() throws {
        var fixture = ProfileFixture()
        for user in ["alice", "bob", "carol"] { try fixture.register(user) }
        // A log written before experiments were configuration: the definition rides on the
        // first assignment (definition_version 0).
        try fixture.state.apply(
            Retain_V1_ProfileLogEntry(
                assignment: Retain_V1_ProfileAssignment(
                    userId: "alice", experimentId: "checkout-button", variants: variants, variant: "control", atMs: monday)))
        let bob = try assign(&fixture.state, "bob")
        #expect(bob.variant == "treatment")
        #expect(bob.definitionVersion == 0)
        #expect(rpcError { _ = try assign(&fixture.state, "carol", allTreatment) }?.code == .failedPrecondition)
        #expect(try assign(&fixture.state, "carol", variants).definitionVersion == 0, "the same definition is a check")

        var configured = ProfileFixture()
        for user in ["alice", "bob"] { try configured.register(user) }
        try configured.state.apply(
            Retain_V1_ProfileLogEntry(
                assignment: Retain_V1_ProfileAssignment(
                    userId: "alice", experimentId: "checkout-button", variants: variants, variant: "control", atMs: monday)))
        try configured.state.defineExperiments(["checkout-button": variants], at: monday + day)
        let plan = try configured.state.planAssignment(
            Retain_V1_AssignVariantRequest(userId: "bob", experimentId: "checkout-button"), now: monday + day)
        #expect(plan.entry?.assignment?.definitionVersion == 1, "the same weights, now configuration: logged once")
        try configured.state.apply(try #require(plan.entry))
        #expect(configured.state.experiments["checkout-button"]?.definitionVersion == 1)
        try configured.state.defineExperiments([:], at: monday + 2 * day)
        try configured.register("carol")
        #expect(rpcError { _ = try assign(&configured.state, "carol", at: monday + 2 * day) }?.code == .failedPrecondition)
    }

    @Test("a document's experiments are checked like AssignVariant's variants, each error naming its field")
    func documentValidation() {
        func problem(_ json: String) -> String? {
            do {
                _ = try ProfileRules(ruleSetDocument: Array(json.utf8))
                return nil
            } catch {
                return error.field.map { String($0.dropFirst("document.".count)) }
            }
        }
        let valid = #"{"experiments": {"x": {"variants": [{"name": "a", "weight": 1}, {"name": "b", "weight": 0}]}}}"#
        #expect(problem(valid) == nil)
        #expect(problem(#"{"experiments": {"x": {"variants": [{"name": "a", "weight": 0}]}}}"#) == "experiments.x.variants")
        #expect(problem(#"{"experiments": {"x": {"variants": []}}}"#) == "experiments.x.variants")
        #expect(
            problem(#"{"experiments": {"x": {"variants": [{"name": "a", "weight": 1}, {"name": "a", "weight": 1}]}}}"#)
                == "experiments.x.variants[1].name")
        #expect(problem(#"{"experiments": {"x": {"variants": [{"name": "a", "weight": 10001}]}}}"#) == "experiments.x.variants[0].weight")
        #expect(problem(#"{"experiments": {"x": {"variants": [{"name": "a", "weight": 1.5}]}}}"#) == "experiments.x.variants[0].weight")
        #expect(problem(#"{"experiments": {"x": {"variants": [{"name": "A b", "weight": 1}]}}}"#) == "experiments.x.variants[0].name")
        #expect(problem(#"{"experiments": {"x": {"weights": []}}}"#) == "experiments.x.weights")
        #expect(problem(#"{"experiments": {"no spaces": {"variants": [{"name": "a", "weight": 1}]}}}"#) == "experiments.no spaces")
        #expect(problem(#"{"experiments": []}"#) == "experiments")
        #expect(problem(#"{"experiment": {}}"#) == "experiment")
    }

    @Test("the canonical document keeps experiment ids as written and omits experiments when there are none")
    func canonicalDocument() throws {
        let rules = ProfileRules(
            lifecycle: LifecycleRules(),
            experiments: ["checkoutButton": ExperimentDefinition(variants: variants, description: "one-click checkout")])
        let reread = try ProfileRules(ruleSetDocument: rules.document)
        #expect(reread.experiments == rules.experiments)
        #expect(String(decoding: rules.document, as: UTF8.self).contains("\"checkoutButton\""))
        let plain = String(decoding: ProfileRules(lifecycle: LifecycleRules()).document, as: UTF8.self)
        #expect(!plain.contains("experiments"), "documents written before experiments stay the same bytes")
    }
}
