@testable import GrowthCore
import RetainMoves
import RetainProto
import Testing

/// A user's growth moved to another shard (the copy of online resharding): everything the user
/// sees is the same there, a retried award is recognised there, and a copy made twice is the
/// same as one.
@Suite("users moved between shards")
struct UserMoveTests {
    let at = utc(2025, 3, 12, 12)

    /// A state with a variety of users: several actions a day (counts by action), check-ins,
    /// tasks, two weeks, a tie.
    func populated() throws -> GrowthState {
        var state = GrowthState()
        for index in 0..<24 {
            let user = "u\(index)"
            try state.award(user, "login", key: "l1", at: at - 8 * dayMs)
            try state.award(user, "post", key: "p1", at: at - 8 * dayMs + hourMs)
            if index % 2 == 0 { try state.award(user, "purchase", key: "b1", value: Int64(100 * (index % 5 + 1)), at: at) }
            if index % 3 == 0 { try state.checkIn(user, at: at - dayMs) }
            if index % 3 == 0 { try state.checkIn(user, at: at) }
            try state.award(user, "share", key: "s1", at: at + Int64(index % 4))
        }
        return state
    }

    /// What a user sees, as text.
    func seen(_ state: GrowthState, _ user: String) -> [String] {
        [
            "\(state.view(userID: user, timeZone: "", at: at, rules: testRules))",
            "\(state.summary(userID: user, startMs: at - 30 * dayMs, endMs: at + dayMs, timeZone: "", rules: testRules))",
            "\(state.tasks(userID: user, timeZone: "", at: at, rules: testRules))",
            "\(state.rank(userID: user, .overall, neighbours: 0, at: at, rules: testRules).score)",
            "\(state.rank(userID: user, .weekly, neighbours: 0, at: at, rules: testRules).score)",
        ]
    }

    @Test("a moved user answers on its new shard as on the old one; the boards split without loss")
    func moved() throws {
        let original = try populated()
        var source = original
        var target = GrowthState()
        let moving = original.movableUserIDs.filter { Int($0.dropFirst())! % 3 != 1 }
        for user in moving {
            target.importUser(try #require(source.userRecord(user)))
            source.removeUser(user)
        }
        for user in original.movableUserIDs {
            let holder = moving.contains(user) ? target : source
            #expect(seen(holder, user) == seen(original, user), "\(user)")
            #expect((moving.contains(user) ? source : target).userRecord(user) == nil)
            #expect(
                GrowthState.checksum(try #require(holder.userRecord(user)))
                    == GrowthState.checksum(try #require(original.userRecord(user))))
        }
        for board in [Retain_V1_LeaderboardKind.overall, .weekly] {
            let whole = original.leaderboard(board, limit: 1000, at: at, rules: testRules)
            let parts = [source, target].map { $0.leaderboard(board, limit: 1000, at: at, rules: testRules) }
            #expect(parts[0].totalUsers + parts[1].totalUsers == whole.totalUsers)
            #expect(Set(parts.flatMap(\.entries).map(\.userId)) == Set(whole.entries.map(\.userId)))
        }
        #expect(source.userCount + target.userCount == original.userCount)
    }

    @Test("an award retried after the move is recognised on the new shard, not paid twice")
    func keysMove() throws {
        var source = try populated()
        var target = GrowthState()
        let before = try #require(source.userRecord("u4"))
        target.importUser(before)
        source.removeUser("u4")
        let answer = try target.award("u4", "share", key: "s1", at: at)
        #expect(answer.replayed)
        #expect(target.userRecord("u4")?.totalGrowth == before.totalGrowth)
    }

    @Test("a copy made twice is one copy; the checksum tells a changed user")
    func copyTwice() throws {
        let source = try populated()
        var target = GrowthState()
        let record = try #require(source.userRecord("u2"))
        target.importUser(record)
        let once = target.leaderboard(.overall, limit: 10, at: at, rules: testRules)
        target.importUser(record)
        #expect(target.leaderboard(.overall, limit: 10, at: at, rules: testRules) == once)
        #expect(target.userCount == 1)
        #expect(GrowthState.checksum(try #require(target.userRecord("u2"))) == GrowthState.checksum(record))
        try target.award("u2", "share", key: "new", at: at + dayMs)
        #expect(GrowthState.checksum(try #require(target.userRecord("u2"))) != GrowthState.checksum(record))
        // A newer copy replaces the older one on the boards too.
        target.importUser(record)
        #expect(target.leaderboard(.overall, limit: 10, at: at, rules: testRules) == once)
    }

    @Test(
        "a shard answers a report only for the ring versions its users match: the old ring until a moved user leaves, the new once all left"
    )
    func reportVersions() throws {
        var source = try populated()
        var target = GrowthState()
        func answers(_ state: GrowthState, _ version: UInt64) -> Bool { (try? state.refuseReport(ringVersion: version)) != nil }
        try source.apply(Retain_V1_GrowthLogEntry(usersMoved: .init(fenced: ["u0", "u3"], ringVersion: 2)))
        #expect(answers(source, 0) && answers(source, 1) && !answers(source, 2))
        try target.apply(Retain_V1_GrowthLogEntry(usersMoved: .init(imported: [try #require(source.userRecord("u0"))], ringVersion: 2)))
        #expect(answers(target, 0) && !answers(target, 1) && answers(target, 2))
        try source.apply(Retain_V1_GrowthLogEntry(usersMoved: .init(dropped: ["u0"])))
        #expect(answers(source, 0) && !answers(source, 1) && !answers(source, 2), "in between: neither ring")
        try source.apply(Retain_V1_GrowthLogEntry(usersMoved: .init(dropped: ["u3"])))
        #expect(answers(source, 0) && !answers(source, 1) && answers(source, 2) && answers(source, 3))
        #expect(throws: UserMoveError.ringVersion(asked: 1, reason: "users moving to ring version 2 left already")) {
            try source.refuseReport(ringVersion: 1)
        }
    }
}
