public import RetainProto

extension ReportMerge {
    /// The rows a leaderboard request asks for: `limit`, 10 when 0.
    public static func leaderboardLimit(_ request: Retain_V1_GetLeaderboardRequest) -> Int {
        request.limit == 0 ? 10 : Int(request.limit)
    }

    /// GetLeaderboard: every shard's top N merged by score (highest first), then reached_at_ms,
    /// then user id, cut to N, ranked again over the merged board (competition ranking: ties
    /// share a rank, 1, 2, 2, 4); users on the board add up. Each shard's top N holds every
    /// one of its users that can be in the merged top N, so the merged board is exact.
    public static func leaderboard(_ answers: [Retain_V1_GetLeaderboardResponse], limit: Int) -> Retain_V1_GetLeaderboardResponse {
        var entries = answers.flatMap(\.entries)
        entries.sort(by: boardOrder)
        if entries.count > limit { entries.removeSubrange(limit...) }
        for index in entries.indices {
            entries[index].rank =
                index > 0 && entries[index].score == entries[index - 1].score
                ? entries[index - 1].rank : UInt64(index + 1)
        }
        var merged = Retain_V1_GetLeaderboardResponse(entries: entries, totalUsers: answers.reduce(0) { $0 + $1.totalUsers })
        merged.periodStartMs = answers.first?.periodStartMs ?? 0
        merged.periodEndMs = answers.first?.periodEndMs ?? 0
        return merged
    }

    /// A leaderboard's order: the higher score first, then the earlier reached_at_ms, then the
    /// smaller user id.
    public static func boardOrder(_ a: Retain_V1_LeaderboardEntry, _ b: Retain_V1_LeaderboardEntry) -> Bool {
        if a.score != b.score { return a.score > b.score }
        if a.reachedAtMs != b.reachedAtMs { return a.reachedAtMs < b.reachedAtMs }
        return a.userId < b.userId
    }

    /// GetLevelDistribution: the users of each level add up, and the users counted; the tiers
    /// and config version are the first answer's (every shard keeps the same rule sets). A
    /// shard that answers more tiers (a rule-set version it took first) adds its rows by level.
    public static func levelDistribution(_ answers: [Retain_V1_GetLevelDistributionResponse]) -> Retain_V1_GetLevelDistributionResponse {
        guard var merged = answers.first else { return Retain_V1_GetLevelDistributionResponse() }
        for answer in answers.dropFirst() {
            merged.users += answer.users
            for row in answer.levels {
                let level = row.tier?.level ?? 0
                if let index = merged.levels.firstIndex(where: { $0.tier?.level == level }) {
                    merged.levels[index].users += row.users
                } else {
                    merged.levels.append(row)
                }
            }
        }
        merged.levels.sort { ($0.tier?.level ?? 0) < ($1.tier?.level ?? 0) }
        merged.missingShards = []
        return merged
    }
}
