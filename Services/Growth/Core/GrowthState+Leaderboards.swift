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

    /// Where the row `(score, reachedAtMs, userID)` stands on a board: the users ahead of it
    /// and with a higher score, and `neighbours` rows above and below (the user's own row, if
    /// any, neither counted nor listed). GetRank over several shards is built from every
    /// shard's answer.
    public func boardPosition(
        _ kind: Retain_V1_LeaderboardKind, score: Int64, reachedAtMs: Int64, userID: String, neighbours: Int,
        at ms: Int64, rules: GrowthRules
    ) -> Retain_V1_GetBoardPositionResponse {
        let (board, _) = board(kind, at: ms)
        var response = Retain_V1_GetBoardPositionResponse(totalUsers: UInt64(board?.count ?? 0))
        guard let board else { return response }
        var own: LeaderboardKey?
        if !userID.isEmpty, let user = users[userID] {
            if kind == .weekly {
                own = user.weekScore(CivilDate.monday(of: CivilDate.utcDay(ms: ms))).map {
                    LeaderboardKey(score: $0.score, reachedAtMs: $0.reachedAtMs, userID: userID)
                }
            } else {
                own = user.boardKey(userID)
            }
        }
        let found = board.position(
            of: LeaderboardKey(score: score, reachedAtMs: reachedAtMs, userID: userID), neighbours: neighbours, skipping: own)
        response.ahead = UInt64(found.ahead)
        response.higher = UInt64(found.higher)
        response.above = found.above.map { entry($0.rank, $0.key, rules: rules) }
        response.below = found.below.map { entry($0.rank, $0.key, rules: rules) }
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
