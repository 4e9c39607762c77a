public import RetainProto

extension ProfileState {
    /// Decides a (validated) AssignVariant: the user's sticky variant if assigned, else the
    /// variant of the user's bucket under the given (or stored) weights. Returns the answer and
    /// the entry to log (nil when nothing changes). `.notFound` for an unknown or deleted user, or
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
        let entry = Retain_V1_ProfileLogEntry(
            assignment: Retain_V1_ProfileAssignment(
                userId: request.userId, experimentId: request.experimentId, variants: redefined ? request.variants : [],
                variant: variant, atMs: now))
        return (entry, Retain_V1_AssignVariantResponse(variant: variant, bucket: bucket, sticky: false, assignedAtMs: now))
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
}
