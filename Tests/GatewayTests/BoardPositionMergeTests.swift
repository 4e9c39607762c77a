import GatewayCore
import RetainProto
import Testing

/// GetRank and GetBoardPosition over several shards: on random boards with many ties, split
/// over 2 to 4 shards, the merged position (and the second question for the first row's rank
/// when it is needed) equals the position on the one board holding every row.
@Suite("GetRank across shards")
struct BoardPositionMergeTests {
    typealias Row = Retain_V1_LeaderboardEntry

    /// A board as one instance holds it: every row, in board order.
    struct Board {
        var rows: [Row]

        init(_ rows: [Row]) { self.rows = rows.sorted(by: ReportMerge.boardOrder) }

        /// GetBoardPosition as the Growth service defines it, by brute force: counts and rows
        /// without the user's own row; ranks as if the user's row were at the given key.
        func position(score: Int64, reachedAtMs: Int64, userID: String, neighbours: Int) -> Retain_V1_GetBoardPositionResponse {
            let key = Row(userId: userID, score: score, reachedAtMs: reachedAtMs)
            let others = rows.filter { $0.userId != userID || userID.isEmpty }
            func rankOf(_ row: Row) -> UInt64 {
                UInt64(others.filter { $0.score > row.score }.count + (score > row.score ? 1 : 0) + 1)
            }
            var answer = Retain_V1_GetBoardPositionResponse(totalUsers: UInt64(rows.count))
            let before = others.filter { ReportMerge.boardOrder($0, key) }
            answer.ahead = UInt64(before.count)
            answer.higher = UInt64(others.filter { $0.score > score }.count)
            answer.above = before.suffix(neighbours).map {
                var row = $0
                row.rank = rankOf(row)
                return row
            }
            answer.below = others.filter { ReportMerge.boardOrder(key, $0) }.prefix(neighbours).map {
                var row = $0
                row.rank = rankOf(row)
                return row
            }
            return answer
        }

        /// GetRank as one instance answers it.
        func rank(of userID: String, neighbours: Int) -> Retain_V1_GetRankResponse {
            guard let index = rows.firstIndex(where: { $0.userId == userID }) else {
                return Retain_V1_GetRankResponse(totalUsers: UInt64(rows.count))
            }
            var own = rows[index]
            own.rank = UInt64(rows.filter { $0.score > own.score }.count + 1)
            let around = position(score: own.score, reachedAtMs: own.reachedAtMs, userID: userID, neighbours: neighbours)
            return Retain_V1_GetRankResponse(
                rank: own.rank, score: own.score, entries: around.above + [own] + around.below, totalUsers: UInt64(rows.count))
        }
    }

    /// Merges the shards' positions as the gateway does: asks one row more, and every shard
    /// again for the users above the first row's score when the merge needs it.
    func merged(
        _ shards: [Board], score: Int64, reachedAtMs: Int64, userID: String, neighbours: Int
    ) -> (merge: BoardPositionMerge, asked: Bool) {
        let rows = BoardPositionMerge.rowsToAsk(neighbours: neighbours)
        var merge = BoardPositionMerge(
            shards.map { $0.position(score: score, reachedAtMs: reachedAtMs, userID: userID, neighbours: rows) }, score: score,
            neighbours: neighbours, asked: rows)
        guard let second = merge.scoreToCount else { return (merge, false) }
        let higher = shards.map { $0.position(score: second, reachedAtMs: .min, userID: userID, neighbours: 0).higher }
        merge.rankFirstRowAbove(higher: higher.reduce(0, +))
        return (merge, true)
    }

    @Test("the merged rank and neighbours equal one board's, ties and all, for every user and width")
    func randomBoards() {
        var random = SplitMix(seed: 18)
        var secondQuestions = 0
        var rowsKnownBeforeTheWindow = 0
        for round in 0..<40 {
            let shardCount = 2 + round % 3
            let userCount = 5 + Int(random.next() % 60)
            // Few distinct scores and times: long ties, decided by time, then user id.
            let scores = 1 + random.next() % (round % 2 == 0 ? 4 : 30)
            var shards = [[Row]](repeating: [], count: shardCount)
            for user in 0..<userCount {
                let row = Row(
                    userId: "u\(user)", score: Int64(1 + random.next() % scores) * 10, level: 1,
                    reachedAtMs: Int64(random.next() % 3))
                shards[Int(random.next() % UInt64(shardCount))].append(row)
            }
            let boards = shards.map(Board.init)
            let whole = Board(shards.flatMap { $0 })
            for user in (0..<userCount).map({ "u\($0)" }) + ["nobody"] {
                for neighbours in [1, 2, 3, 7, 50] {
                    let expected = whole.rank(of: user, neighbours: neighbours)
                    let shard = boards.firstIndex { board in board.rows.contains { $0.userId == user } } ?? 0
                    let own = boards[shard].rank(of: user, neighbours: neighbours)
                    let key = expected.entries.first { $0.userId == user }
                    let (merge, asked) = merged(
                        boards, score: key?.score ?? 0, reachedAtMs: key?.reachedAtMs ?? 0, userID: user,
                        neighbours: key == nil ? 0 : neighbours)
                    if asked { secondQuestions += 1 } else if merge.position.above.count > 0 { rowsKnownBeforeTheWindow += 1 }
                    #expect(merge.rank(own: own, userID: user) == expected, "round \(round), \(user), \(neighbours) neighbours")
                }
            }
            // Any row, on or off the board, with the widest window a caller may ask.
            for probe in 0..<10 {
                let score = Int64(random.next() % (scores + 2)) * 10
                let at = Int64(random.next() % 4) - 1
                let user = probe % 2 == 0 ? "" : "u\(random.next() % UInt64(userCount))"
                for neighbours in [0, 1, 51] {
                    let expected = whole.position(score: score, reachedAtMs: at, userID: user, neighbours: neighbours)
                    #expect(
                        merged(boards, score: score, reachedAtMs: at, userID: user, neighbours: neighbours).merge.position == expected,
                        "round \(round), probe (\(score), \(at), '\(user)'), \(neighbours) neighbours")
                }
            }
        }
        // Both ways of ranking the first row above were taken.
        #expect(secondQuestions > 50 && rowsKnownBeforeTheWindow > 50, "\(secondQuestions) \(rowsKnownBeforeTheWindow)")
    }

    @Test("GetBoardPosition and GetRank have rules, and GetRank is the one call about one user that has one")
    func rules() {
        #expect(ScatterRule.rule(for: Retain_V1_Growth.getBoardPosition.path) == .boardPosition)
        #expect(ScatterRule.rule(for: Retain_V1_Growth.getRank.path) == .rank)
    }
}
