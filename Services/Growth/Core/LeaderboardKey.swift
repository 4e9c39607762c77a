/// One row's sort key on a leaderboard: higher score first, then the earlier time the score was
/// reached, then the user id — a total order, so ties always come out the same way.
struct LeaderboardKey: Comparable, Hashable, Sendable {
    /// Growth: the total (overall) or earned in the week (weekly).
    var score: Int64
    /// When the user reached the score, Unix ms.
    var reachedAtMs: Int64
    /// The user.
    var userID: String

    static func < (lhs: Self, rhs: Self) -> Bool {
        if lhs.score != rhs.score { return lhs.score > rhs.score }
        if lhs.reachedAtMs != rhs.reachedAtMs { return lhs.reachedAtMs < rhs.reachedAtMs }
        return lhs.userID < rhs.userID
    }

    /// The smallest key with `score`: keys before it have a higher score.
    static func first(withScore score: Int64) -> Self {
        Self(score: score, reachedAtMs: .min, userID: "")
    }
}
