public import RetainProto

extension ProfileState {
    /// Decides a (validated) AssignVariant: the user's sticky variant if assigned, else the
    /// variant of the user's bucket under the given (or stored) weights. Returns the answer and
    /// the entry to log (nil when nothing changes); a new assignment takes the request's
    /// `assigned_at_ms` (0: `now`). `.notFound` for an unknown or deleted user, or
    /// an experiment never defined when no variants are given.
    public func planAssignment(
        _ request: Retain_V1_AssignVariantRequest, now: Int64
    ) throws(ProfileError) -> (entry: Retain_V1_ProfileLogEntry?, response: Retain_V1_AssignVariantResponse) {
        let userIndex = try liveUserIndex(request.userId)
        let experiment = experiments[request.experimentId]
        guard !request.variants.isEmpty || experiment != nil else {
            throw ProfileError.notFound(what: "experiment", id: request.experimentId)
        }
        let redefined = !request.variants.isEmpty && request.variants != experiment?.variants
        let variants = request.variants.isEmpty ? experiment!.variants : request.variants
        let bucket = Experiment.bucket(experimentID: request.experimentId, userID: request.userId)
        if let experiment, let assignment = experiment.assignments[userIndex] {
            let entry =
                redefined
                ? Retain_V1_ProfileLogEntry(
                    assignment: Retain_V1_ProfileAssignment(
                        userId: request.userId, experimentId: request.experimentId, variants: request.variants, atMs: now)) : nil
            return (
                entry,
                Retain_V1_AssignVariantResponse(
                    variant: experiment.variantNames[Int(assignment.variant)], bucket: bucket, sticky: true,
                    assignedAtMs: assignment.atMs)
            )
        }
        let variant = Experiment.variant(for: bucket, in: variants)
        let at = request.assignedAtMs == 0 ? now : request.assignedAtMs
        let entry = Retain_V1_ProfileLogEntry(
            assignment: Retain_V1_ProfileAssignment(
                userId: request.userId, experimentId: request.experimentId, variants: redefined ? request.variants : [],
                variant: variant, atMs: at))
        return (entry, Retain_V1_AssignVariantResponse(variant: variant, bucket: bucket, sticky: false, assignedAtMs: at))
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
        if !entry.variants.isEmpty { experiments[entry.experimentId, default: Experiment()].define(entry.variants) }
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
