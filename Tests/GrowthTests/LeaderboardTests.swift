@testable import GrowthCore
import RetainProto
import Testing

@Suite("leaderboards")
struct LeaderboardTests {
    let at = utc(2025, 3, 12, 12)

    @Test("ties share a competition rank and are ordered by who reached the score first, then by id")
    func ties() throws {
        var state = GrowthState()
        // share gives 5: c reaches 10 first, then b and a together at the same millisecond.
        try state.award("c", "share", key: "1", at: at)
        try state.award("c", "share", key: "2", at: at + 10)
        for user in ["b", "a"] {
            try state.award(user, "share", key: "1", at: at)
            try state.award(user, "share", key: "2", at: at + 20)
        }
        try state.award("top", "post", key: "1", at: at + 30)
        try state.award("low", "share", key: "1", at: at + 40)
        let board = state.leaderboard(.overall, limit: 10, at: at, rules: testRules)
        #expect(board.entries.map(\.userId) == ["top", "c", "a", "b", "low"])
        #expect(board.entries.map(\.rank) == [1, 2, 2, 2, 5])
        #expect(board.entries.map(\.score) == [30, 10, 10, 10, 5])
        #expect(board.totalUsers == 5)
        let rank = state.rank(userID: "b", .overall, neighbours: 1, at: at, rules: testRules)
        #expect(rank.rank == 2 && rank.score == 10)
        #expect(rank.entries.map(\.userId) == ["a", "b", "low"])
        #expect(rank.entries.map(\.rank) == [2, 2, 5])
    }

    @Test("neighbours stop at the ends of the board; users without growth are unranked")
    func edges() throws {
        var state = GrowthState()
        for (index, user) in ["u1", "u2", "u3", "u4"].enumerated() {
            try state.award(user, "purchase", key: "k", value: Int64(100 * (4 - index)), at: at)
        }
        try state.award("zero", "dance", key: "k", at: at)
        let first = state.rank(userID: "u1", .overall, neighbours: 2, at: at, rules: testRules)
        #expect(first.rank == 1 && first.entries.map(\.userId) == ["u1", "u2", "u3"])
        let last = state.rank(userID: "u4", .overall, neighbours: 2, at: at, rules: testRules)
        #expect(last.rank == 4 && last.entries.map(\.userId) == ["u2", "u3", "u4"])
        let zero = state.rank(userID: "zero", .overall, neighbours: 2, at: at, rules: testRules)
        #expect(zero.rank == 0 && zero.entries.isEmpty && zero.totalUsers == 4)
        #expect(state.rank(userID: "nobody", .overall, neighbours: 2, at: at, rules: testRules).rank == 0)
    }

    @Test("a user moves up the board as growth comes in")
    func movesUp() throws {
        var state = GrowthState()
        try state.award("a", "post", key: "1", at: at)
        try state.award("b", "share", key: "1", at: at)
        #expect(state.rank(userID: "b", .overall, neighbours: 1, at: at, rules: testRules).rank == 2)
        try state.award("b", "post", key: "2", at: at + 1)
        #expect(state.rank(userID: "b", .overall, neighbours: 1, at: at, rules: testRules).rank == 1)
        #expect(state.leaderboard(.overall, limit: 1, at: at, rules: testRules).entries.map(\.userId) == ["b"])
    }

    @Test("the weekly board counts growth of one UTC ISO week and starts empty the next")
    func weekly() throws {
        var state = GrowthState()
        try state.award("old", "post", key: "1", at: utc(2025, 3, 9, 23))  // Sunday of 2025-W10
        try state.award("new", "share", key: "1", at: utc(2025, 3, 10, 0, 1))  // Monday of 2025-W11
        try state.award("old", "share", key: "2", at: utc(2025, 3, 11))
        let thisWeek = state.leaderboard(.weekly, limit: 10, at: utc(2025, 3, 12), rules: testRules)
        #expect(thisWeek.entries.map(\.userId) == ["new", "old"])
        #expect(thisWeek.entries.map(\.score) == [5, 5])
        #expect(thisWeek.periodStartMs == utc(2025, 3, 10) && thisWeek.periodEndMs == utc(2025, 3, 17))
        let lastWeek = state.leaderboard(.weekly, limit: 10, at: utc(2025, 3, 9), rules: testRules)
        #expect(lastWeek.entries.map(\.userId) == ["old"] && lastWeek.entries[0].score == 30)
        #expect(state.leaderboard(.weekly, limit: 10, at: utc(2025, 3, 17), rules: testRules).totalUsers == 0)
        let overall = state.leaderboard(.overall, limit: 10, at: utc(2025, 3, 12), rules: testRules)
        #expect(overall.entries.map(\.userId) == ["old", "new"] && overall.periodStartMs == 0)
        let rank = state.rank(userID: "old", .weekly, neighbours: 2, at: utc(2025, 3, 12), rules: testRules)
        #expect(rank.rank == 1 && rank.score == 5)
        #expect(state.view(userID: "old", timeZone: "", at: utc(2025, 3, 12), rules: testRules).weekGrowth == 5)
    }

    @Test("a board position: users ahead and scoring higher, and the rows around any row, ranked as if the user's row were there")
    func position() throws {
        var state = GrowthState()
        // Scores 10, 10, 10, 5, 5, 30: long ties.
        for (user, keys) in [("a", 2), ("b", 2), ("c", 2), ("d", 1), ("e", 1)] {
            for key in 0..<keys { try state.award(user, "share", key: "\(key)", at: at + Int64(key)) }
        }
        try state.award("top", "post", key: "1", at: at)
        let board = state.leaderboard(.overall, limit: 100, at: at, rules: testRules).entries
        #expect(board.map(\.userId) == ["top", "a", "b", "c", "d", "e"])
        // A row that is on no one's: 10 points reached before everyone else's 10.
        let probe = state.boardPosition(.overall, score: 10, reachedAtMs: 0, userID: "", neighbours: 2, at: at, rules: testRules)
        #expect(probe.ahead == 1 && probe.higher == 1 && probe.totalUsers == 6)
        #expect(probe.above.map(\.userId) == ["top"] && probe.above.map(\.rank) == [1])
        #expect(probe.below.map(\.userId) == ["a", "b"] && probe.below.map(\.rank) == [2, 2])
        // 7 points: the rows below rank one lower, as if the row were on the board.
        let seven = state.boardPosition(.overall, score: 7, reachedAtMs: 0, userID: "", neighbours: 1, at: at, rules: testRules)
        #expect(seven.ahead == 4 && seven.higher == 4 && seven.above.map(\.rank) == [2] && seven.below.map(\.rank) == [6])
        // A user's own row is neither counted nor listed, wherever it is.
        let own = state.boardPosition(.overall, score: 10, reachedAtMs: at + 1, userID: "b", neighbours: 5, at: at, rules: testRules)
        #expect(own.ahead == 2 && own.higher == 1)
        #expect(own.above.map(\.userId) == ["top", "a"] && own.below.map(\.userId) == ["c", "d", "e"])
        #expect(own.below.map(\.rank) == [2, 5, 5])
        let moved = state.boardPosition(.overall, score: 1, reachedAtMs: 0, userID: "top", neighbours: 1, at: at, rules: testRules)
        #expect(moved.ahead == 5 && moved.higher == 5 && moved.above.map(\.userId) == ["e"] && moved.above.map(\.rank) == [4])
    }
}
