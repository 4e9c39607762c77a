/// A ranked board of users with a positive score. Ranks are competition ranks (1, 2, 2, 4):
/// one plus the number of users with a strictly higher score.
struct Leaderboard: Sendable {
    private var list = OrderStatisticsList<LeaderboardKey>()

    /// An empty board.
    init() {}

    /// A board holding `keys`, which are in order (strictly increasing), each with a positive
    /// score.
    init(sorted keys: [LeaderboardKey]) {
        list = OrderStatisticsList(sorted: keys)
    }

    /// Users on the board.
    var count: Int { list.count }

    /// Moves a user from `old` to `new`; a nil or non-positive key is off the board.
    mutating func update(from old: LeaderboardKey?, to new: LeaderboardKey?) {
        if let old, old.score > 0 { list.remove(old) }
        if let new, new.score > 0 { list.insert(new) }
    }

    /// The competition rank of a row with `score`.
    func rank(ofScore score: Int64) -> UInt64 {
        UInt64(list.lowerBound(.first(withScore: score)) + 1)
    }

    /// The first `limit` rows with their ranks.
    func top(_ limit: Int) -> [(rank: UInt64, key: LeaderboardKey)] {
        ranked(list.elements(in: 0..<limit), startingAt: 0)
    }

    /// The row of `key` with `neighbours` rows above and below, or nil when `key` is not on
    /// the board.
    func around(_ key: LeaderboardKey, neighbours: Int) -> (rank: UInt64, rows: [(rank: UInt64, key: LeaderboardKey)])? {
        guard key.score > 0, let position = list.position(of: key) else { return nil }
        let start = max(0, position - neighbours)
        let rows = ranked(list.elements(in: start..<(position + neighbours + 1)), startingAt: start)
        return (rows[position - start].rank, rows)
    }

    /// Where `key` stands: the rows before it (`ahead`), those with a higher score (`higher`),
    /// and up to `neighbours` rows on each side. The user's own row (`own`, wherever it is)
    /// is neither counted nor listed, and the listed rows are ranked as if the user's row were
    /// at `key`: one plus the other rows with a higher score, plus one when `key`'s score is
    /// higher.
    func position(
        of key: LeaderboardKey, neighbours: Int, skipping own: LeaderboardKey?
    ) -> (ahead: Int, higher: Int, above: [(rank: UInt64, key: LeaderboardKey)], below: [(rank: UInt64, key: LeaderboardKey)]) {
        let own = own.flatMap { $0.score > 0 && list.position(of: $0) != nil ? $0 : nil }
        /// Rows other than the user's with a score above `score`.
        func higherRows(than score: Int64) -> Int {
            list.lowerBound(.first(withScore: score)) - (own.map { $0.score > score } == true ? 1 : 0)
        }
        func rankedAround(_ keys: [LeaderboardKey]) -> [(rank: UInt64, key: LeaderboardKey)] {
            var rows: [(rank: UInt64, key: LeaderboardKey)] = []
            for row in keys where row != own && row != key {
                let rank = rows.last.flatMap { $0.key.score == row.score ? $0.rank : nil }
                rows.append((rank ?? UInt64(higherRows(than: row.score) + (key.score > row.score ? 1 : 0) + 1), row))
            }
            return rows
        }
        let before = list.lowerBound(key)
        var above = rankedAround(list.elements(in: max(0, before - neighbours - 1)..<before))
        if above.count > neighbours { above.removeFirst(above.count - neighbours) }
        var below = rankedAround(list.elements(in: before..<(before + neighbours + 2)))
        if below.count > neighbours { below.removeLast(below.count - neighbours) }
        return (before - (own.map { $0 < key } == true ? 1 : 0), higherRows(than: key.score), above, below)
    }

    /// Ranks consecutive rows that start at `position`: only the first needs a search.
    private func ranked(_ keys: [LeaderboardKey], startingAt position: Int) -> [(rank: UInt64, key: LeaderboardKey)] {
        var rows: [(rank: UInt64, key: LeaderboardKey)] = []
        rows.reserveCapacity(keys.count)
        for (offset, key) in keys.enumerated() {
            if let previous = rows.last, previous.key.score == key.score {
                rows.append((previous.rank, key))
            } else if offset == 0 {
                rows.append((rank(ofScore: key.score), key))
            } else {
                rows.append((UInt64(position + offset + 1), key))
            }
        }
        return rows
    }
}
