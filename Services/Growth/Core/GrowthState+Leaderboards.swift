public import RetainProto

extension GrowthState {
    /// The top `limit` rows of the overall board, or of the weekly board of the UTC ISO week
    /// holding `ms`.
    public func leaderboard(
        _ kind: Retain_V1_LeaderboardKind, limit: Int, at ms: Int64,
        rules: GrowthRules
    ) -> Retain_V1_GetLeaderboardResponse {
        let (board, period) = board(kind, at: ms)
        var response = Retain_V1_GetLeaderboardResponse(
            totalUsers: UInt64(board?.count ?? 0),
            periodStartMs: period.start, periodEndMs: period.end)
        response.entries = (board?.top(limit) ?? []).map { entry($0.rank, $0.key, rules: rules) }
        return response
    }

    /// A user's rank on a board with `neighbours` rows above and below; rank 0 and no rows when
    /// the user has no score there.
    public func rank(
        userID: String, _ kind: Retain_V1_LeaderboardKind, neighbours: Int, at ms: Int64,
        rules: GrowthRules
    ) -> Retain_V1_GetRankResponse {
        let (board, _) = board(kind, at: ms)
        var response = Retain_V1_GetRankResponse(totalUsers: UInt64(board?.count ?? 0))
        guard let user = users[userID] else { return response }
        let key: LeaderboardKey
        if kind == .weekly {
            let monday = CivilDate.monday(of: CivilDate.utcDay(ms: ms))
            guard let week = user.weekScore(monday) else { return response }
            key = LeaderboardKey(score: week.score, reachedAtMs: week.reachedAtMs, userID: userID)
        } else {
            key = user.boardKey(userID)
        }
        response.score = key.score
        guard let board, let found = board.around(key, neighbours: neighbours) else { return response }
        response.rank = found.rank
        response.entries = found.rows.map { entry($0.rank, $0.key, rules: rules) }
        return response
    }

    private func board(_ kind: Retain_V1_LeaderboardKind, at ms: Int64) -> (Leaderboard?, (start: Int64, end: Int64)) {
        guard kind == .weekly else { return (overall, (0, 0)) }
        let monday = CivilDate.monday(of: CivilDate.utcDay(ms: ms))
        return (weekly[monday], (CivilDate.utcStartMs(monday), CivilDate.utcStartMs(monday + 7)))
    }

    private func entry(_ rank: UInt64, _ key: LeaderboardKey, rules: GrowthRules) -> Retain_V1_LeaderboardEntry {
        Retain_V1_LeaderboardEntry(
            rank: rank, userId: key.userID, score: key.score,
            level: rules.level(for: users[key.userID]?.total ?? key.score),
            reachedAtMs: key.reachedAtMs)
    }
}
