public import RetainProto
import RetainRuleSets

extension ProfileState {
    /// Decides a (validated) AssignVariant: the user's sticky variant if assigned, else the
    /// variant of the user's bucket under the definition in force (``definition(of:now:)``).
    /// Returns the answer and the entry to log (nil when nothing changes); a new assignment takes
    /// the request's `assigned_at_ms` (0: `now`).
    ///
    /// - Throws: `.notFound` for an unknown or deleted user, or an experiment defined nowhere;
    ///   `.refused` when the request's `variants` differ from the definition (definitions change
    ///   only through the profile rule set), or when the experiment was removed from the rule
    ///   set and the user was never assigned.
    public func planAssignment(
        _ request: Retain_V1_AssignVariantRequest, now: Int64
    ) throws(ProfileError) -> (entry: Retain_V1_ProfileLogEntry?, response: Retain_V1_AssignVariantResponse) {
        let userIndex = try liveUserIndex(request.userId)
        let id = request.experimentId
        let stored = experiments[id]
        let definition = definition(of: id, now: now)
        if !request.variants.isEmpty {
            switch definition {
            case .defined(let variants, let version) where request.variants != variants:
                throw ProfileError.refused(
                    version == 0
                        ? "experiment '\(id)': variants differ from its stored definition; an experiment's variants and weights change only through the profile rule set (retain config set profile, docs/CONFIG.md)"
                        : "experiment '\(id)': variants differ from its definition in profile rule set version \(version); an experiment's variants and weights change only through the profile rule set (retain config set profile, docs/CONFIG.md)"
                )
            case .removed(let version):
                throw ProfileError.refused("experiment '\(id)' is not defined in profile rule set version \(version) (it was removed)")
            case .none:
                throw ProfileError.notFound(what: "experiment", id: id)
            case .defined:
                break
            }
        }
        let bucket = Experiment.bucket(experimentID: id, userID: request.userId)
        if let stored, let assignment = stored.assignments[userIndex] {
            return (
                nil,
                Retain_V1_AssignVariantResponse(
                    variant: stored.variantNames[Int(assignment.variant)], bucket: bucket, sticky: true,
                    assignedAtMs: assignment.atMs, definitionVersion: definition.version ?? stored.definitionVersion)
            )
        }
        let variants: [Retain_V1_ExperimentVariant]
        let version: UInt64
        switch definition {
        case .defined(let definedVariants, let definedVersion): (variants, version) = (definedVariants, definedVersion)
        case .removed(let removedIn):
            throw ProfileError.refused(
                "experiment '\(id)' is not defined in profile rule set version \(removedIn) (it was removed): it assigns no new users")
        case .none: throw ProfileError.notFound(what: "experiment", id: id)
        }
        // The definition is logged when it is new to this state (or turns from AssignVariant's
        // own into configuration), so that replay knows every variant name without the rules.
        let changed = stored?.variants != variants || (stored?.definitionVersion == 0) != (version == 0)
        let variant = Experiment.variant(for: bucket, in: variants)
        let at = request.assignedAtMs == 0 ? now : request.assignedAtMs
        let entry = Retain_V1_ProfileLogEntry(
            assignment: Retain_V1_ProfileAssignment(
                userId: request.userId, experimentId: id, variants: changed ? variants : [], variant: variant, atMs: at,
                definitionVersion: changed ? version : 0))
        return (
            entry,
            Retain_V1_AssignVariantResponse(variant: variant, bucket: bucket, sticky: false, assignedAtMs: at, definitionVersion: version)
        )
    }

    /// Where experiment `id`'s definition comes from for a write at `now`.
    enum ExperimentDefinitionSource: Equatable {
        /// These variants, from profile rule-set version `version` (0: AssignVariant's own
        /// definition, stored before experiments were configuration).
        case defined([Retain_V1_ExperimentVariant], version: UInt64)
        /// A rule set defined it once; the version in force (`version`) no longer does.
        case removed(version: UInt64)
        /// Nothing defines it.
        case none

        /// The rule-set version the answer names: the defining or the removing one.
        var version: UInt64? {
            switch self {
            case .defined(_, let version), .removed(let version): version
            case .none: nil
            }
        }
    }

    /// Experiment `id`'s definition for a write at `now`: the profile rule-set version in force
    /// (``RuleSetHistory/decisionTime(now:)``) when it defines the experiment; else the stored
    /// definition AssignVariant made before experiments were configuration; else removed (a
    /// rule set defined it once) or none.
    func definition(of id: String, now: Int64) -> ExperimentDefinitionSource {
        let time = ruleSets.decisionTime(now: now)
        if let version = ruleSets.inForce(at: time), let defined = ruleSets.rules(at: time)?.experiments[id] {
            return .defined(defined.variants, version: version.version)
        }
        guard let stored = experiments[id] else { return .none }
        if stored.definitionVersion == 0 { return .defined(stored.variants, version: 0) }
        return .removed(version: ruleSets.inForce(at: time)?.version ?? stored.definitionVersion)
    }

    mutating func applyAssignment(_ entry: Retain_V1_ProfileAssignment) throws(ProfileError) {
        guard let userIndex = userIndex(entry.userId) else { throw ProfileError.notFound(what: "user", id: entry.userId) }
        var names = experiments[entry.experimentId]?.variantNames ?? []
        for variant in entry.variants where !names.contains(variant.name) { names.append(variant.name) }
        let position = entry.variant.isEmpty ? nil : names.firstIndex(of: entry.variant)
        guard entry.variant.isEmpty || position != nil else {
            throw ProfileError.corrupt("variant '\(entry.variant)' is not defined for experiment '\(entry.experimentId)'")
        }
        // Mutate in place: an experiment may hold millions of assignments.
        if !entry.variants.isEmpty {
            experiments[entry.experimentId, default: Experiment()].define(entry.variants, version: entry.definitionVersion)
        }
        if let position, experiments[entry.experimentId]?.assignments[userIndex] == nil {
            experiments[entry.experimentId, default: Experiment()].assignments[userIndex] =
                Assignment(variant: UInt32(position), atMs: entry.atMs)
        }
    }

    /// Marks the conversions of one event: in every experiment the user is assigned in, an
    /// event of a counted kind that occurred at or after the assignment.
    mutating func recordConversion(_ userIndex: Int32, kind: Int, atMs: Int64) {
        guard kind < ActivityKind.other else { return }
        // The ids first: mutating while iterating `keys` would copy the dictionary.
        for id in Array(experiments.keys) {
            guard let assignment = experiments[id]!.assignments[userIndex], atMs >= assignment.atMs,
                assignment.converted & (1 << UInt8(kind)) == 0
            else { continue }
            experiments[id]!.assignments[userIndex]!.converted |= 1 << UInt8(kind)
        }
    }

    /// The A/B results of experiment `experimentID` for `metric` (a counted kind): assigned and
    /// converted users (not deleted) per variant, with rates, difference, lift and the 95% Wald
    /// interval against `control` (empty: the first variant ever defined).
    public func experimentResults(
        experimentID: String, metric: String, control: String
    ) throws(ProfileError)
        -> Retain_V1_GetExperimentResultsResponse
    {
        let kind = ActivityKind.index(of: metric)
        guard kind < ActivityKind.other else {
            throw ProfileError.invalid(
                field: "metric_kind",
                reason:
                    "must be one of the kinds counted one by one (\(ActivityKind.names.dropLast().joined(separator: ", "))), not '\(metric)'"
            )
        }
        guard let experiment = experiments[experimentID] else { throw ProfileError.notFound(what: "experiment", id: experimentID) }
        let controlName = control.isEmpty ? experiment.variantNames.first ?? "" : control
        guard experiment.variantNames.contains(controlName) else {
            throw ProfileError.invalid(field: "control_variant", reason: "experiment '\(experimentID)' has no variant '\(control)'")
        }
        var assigned = [UInt64](repeating: 0, count: experiment.variantNames.count)
        var converted = assigned
        let bit = UInt8(1) << UInt8(kind)
        for (userIndex, assignment) in experiment.assignments where !isDeleted(userIndex) {
            assigned[Int(assignment.variant)] += 1
            if assignment.converted & bit != 0 { converted[Int(assignment.variant)] += 1 }
        }
        var response = Retain_V1_GetExperimentResultsResponse(
            experimentId: experimentID, metricKind: metric, controlVariant: controlName,
            variants: experiment.variantNames.indices.map {
                Retain_V1_VariantResult(variant: experiment.variantNames[$0], assigned: assigned[$0], converted: converted[$0])
            })
        response.computeStatistics()
        return response
    }
}
