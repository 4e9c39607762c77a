@testable import ProfileCore
import RetainProto
import RetainRuleSets

/// Experiments defined the one way they are: a profile rule-set version (docs/CONFIG.md).
extension ProfileState {
    /// The log entry of the next profile rule-set version, defining `experiments` (id ->
    /// variants) with default lifecycle thresholds, written at `at` and effective from
    /// `effectiveFrom` (0: at once).
    func experimentsEntry(
        _ experiments: [String: [Retain_V1_ExperimentVariant]], at: Int64, effectiveFrom: Int64 = 0
    ) throws -> Retain_V1_ProfileLogEntry {
        let rules = ProfileRules(
            lifecycle: LifecycleRules(), experiments: experiments.mapValues { ExperimentDefinition(variants: $0) })
        let plan = try ruleSets.planSet(
            document: rules.document, author: "tester", reason: "define \(experiments.keys.sorted())",
            effectiveFromMs: effectiveFrom, now: at)
        guard case .add(let version) = plan else { throw RuleSetError.malformedEntry("nothing to store") }
        return ruleSetEntry(version)
    }

    /// Stores the next profile rule-set version defining `experiments` (see ``experimentsEntry``).
    mutating func defineExperiments(
        _ experiments: [String: [Retain_V1_ExperimentVariant]], at: Int64, effectiveFrom: Int64 = 0
    ) throws {
        try apply(experimentsEntry(experiments, at: at, effectiveFrom: effectiveFrom))
    }
}
