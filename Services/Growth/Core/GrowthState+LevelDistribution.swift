public import RetainProto

extension GrowthState {
    /// How many of this shard's users are at each tier of `rules`, as of `asOf` (nil: now).
    ///
    /// A user's level is the tier of their total growth, as ``levels(userIDs:asOf:rules:)``
    /// answers it: as of a time, the total less the growth of the history records after it.
    /// A user counts from their first growth record on (as of an earlier time, not at all).
    /// One pass over the users, plus each user's history records after `asOf`.
    public func levelDistribution(asOf: Int64?, rules: GrowthRules) -> Retain_V1_GetLevelDistributionResponse {
        var counts = [UInt64](repeating: 0, count: rules.tiers.count)
        var counted: UInt64 = 0
        for (_, user) in users {
            var total = user.total
            if let asOf {
                // Not yet a Growth user at that time: the first record is later, nothing pruned.
                if user.prunedGrowth == 0, let first = user.history.first, first.atMs > asOf { continue }
                for record in user.history[user.historyIndex(from: asOf + 1)...] { total -= record.growth }
            }
            counts[rules.tierIndex(for: total)] += 1
            counted += 1
        }
        return Retain_V1_GetLevelDistributionResponse(
            levels: zip(rules.tiers, counts).map { Retain_V1_LevelCount(tier: $0, users: $1) }, users: counted,
            configVersion: rules.version)
    }
}
