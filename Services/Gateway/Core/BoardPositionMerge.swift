public import RetainProto

/// GetBoardPosition and GetRank over several Growth shards: every shard's position of one row
/// (score, reached_at_ms, user id) merged into the position one instance holding every user
/// gives.
///
/// - `ahead`, `higher` and `total_users` add up.
/// - The rows above are every shard's rows above merged in board order, the nearest
///   `neighbours` kept: the nearest N of the whole board are among each shard's nearest N.
///   Their ranks go down the merged board: a row ranks with the row before it when it has the
///   same score, else one plus its position. The first row's rank needs the rows before it: it
///   is 1 at the top; the given row's rank when it has its score; one plus its position when the
///   row before it (known when every shard was asked for one row more than kept, see
///   ``rowsToAsk(neighbours:)``) has a higher score; otherwise the gateway asks every shard how
///   many users score higher (``scoreToCount``) and calls ``rankFirstRowAbove(higher:)``.
/// - The rows below likewise, the first nearest; ranked as if the given row were on the board
///   (with GetRank it is: it is the user's row).
public struct BoardPositionMerge: Sendable {
    /// The merged position.
    public private(set) var position: Retain_V1_GetBoardPositionResponse
    /// The given row's score.
    let score: Int64
    /// The score whose higher-scoring users every shard must count before the first row above
    /// can be ranked; nil when it is ranked.
    public private(set) var scoreToCount: Int64?

    /// The most rows a shard lists on each side (`GetBoardPositionRequest.neighbours`).
    public static let maximumNeighbours = 51

    /// Rows to ask of every shard on each side for `neighbours` merged rows: one more, so that
    /// the row before the first one is known (within the shards' limit).
    public static func rowsToAsk(neighbours: Int) -> Int { min(neighbours + 1, maximumNeighbours) }

    /// Merges the shards' answers (asked for `asked` rows on each side) for a row with `score`,
    /// keeping `neighbours` rows on each side.
    public init(_ answers: [Retain_V1_GetBoardPositionResponse], score: Int64, neighbours: Int, asked: Int) {
        self.score = score
        var merged = Retain_V1_GetBoardPositionResponse()
        for answer in answers {
            merged.ahead += answer.ahead
            merged.higher += answer.higher
            merged.totalUsers += answer.totalUsers
        }
        let above = answers.flatMap(\.above).sorted(by: ReportMerge.boardOrder)
        let below = answers.flatMap(\.below).sorted(by: ReportMerge.boardOrder)
        let kept = min(neighbours, above.count)
        merged.above = Array(above.suffix(kept))
        merged.below = Array(below.prefix(neighbours))
        position = merged
        // The first row above: its rank needs the rows before it.
        if let first = merged.above.first {
            let index = UInt64(above.count - kept)  // its place among the rows listed
            let place = merged.ahead - min(merged.ahead, UInt64(kept))  // its place on the board
            if place == 0 {
                setFirstRowAbove(rank: 1)
            } else if first.score == score {
                setFirstRowAbove(rank: merged.higher + 1)
            } else if kept < asked, index > 0, above[Int(index) - 1].score > first.score {
                setFirstRowAbove(rank: place + 1)
            } else {
                scoreToCount = first.score
            }
        }
        rankBelow()
    }

    /// Ranks the rows above once every shard counted `higher` users scoring higher than
    /// ``scoreToCount``.
    public mutating func rankFirstRowAbove(higher: UInt64) {
        setFirstRowAbove(rank: higher + 1)
        scoreToCount = nil
    }

    private mutating func setFirstRowAbove(rank: UInt64) {
        let first = position.ahead - min(position.ahead, UInt64(position.above.count))
        for index in position.above.indices {
            position.above[index].rank =
                index > 0 && position.above[index].score == position.above[index - 1].score
                ? position.above[index - 1].rank : (index == 0 ? rank : first + UInt64(index) + 1)
        }
    }

    /// The rows below, ranked with the given row at its place (`ahead`).
    private mutating func rankBelow() {
        let first = position.ahead + 1
        for index in position.below.indices {
            let row = position.below[index]
            if index > 0, row.score == position.below[index - 1].score {
                position.below[index].rank = position.below[index - 1].rank
            } else if row.score == score {
                position.below[index].rank = position.higher + 1
            } else {
                position.below[index].rank = first + UInt64(index) + 1
            }
        }
    }

    /// GetRank over several shards: the user's row from its own shard (`own`, as GetRank
    /// answered it there) with the merged position around it.
    public func rank(own: Retain_V1_GetRankResponse, userID: String) -> Retain_V1_GetRankResponse {
        var answer = Retain_V1_GetRankResponse(score: own.score, totalUsers: position.totalUsers)
        guard own.rank > 0, var row = own.entries.first(where: { $0.userId == userID }) else { return answer }
        answer.rank = position.higher + 1
        row.rank = answer.rank
        answer.entries = position.above + [row] + position.below
        return answer
    }
}
