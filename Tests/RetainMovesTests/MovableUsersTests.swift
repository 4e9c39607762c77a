import RetainMoves
import RetainProto
import Testing

/// The shard's side of moving users, the same for every service: a toy state whose user records
/// are `MovedUser` messages (`record` is the user's whole state) plugs in, and the fences, the
/// order of a change's parts, their refusals and the report check behave as docs/CLUSTER.md says.
@Suite("users moving between shards, the shared mechanism")
struct MovableUsersTests {
    struct Toy: MovableUsers {
        var fences = UserFences()
        var users: [String: Retain_V1_MovedUser] = [:]

        var unorderedMovableUserIDs: [String] { Array(users.keys) }
        func holdsUser(_ userID: String) -> Bool { users[userID] != nil }
        func userRecord(_ userID: String) -> Retain_V1_MovedUser? { users[userID] }
        mutating func importUsers(_ records: [Retain_V1_MovedUser]) throws(UserMoveError) {
            for record in records { users[record.userId] = record }
        }
        mutating func removeUsers(_ userIDs: [String]) throws(UserMoveError) {
            for user in userIDs { users[user] = nil }
        }
        static func userID(of record: Retain_V1_MovedUser) -> String { record.userId }
        static func checksum(_ record: Retain_V1_MovedUser) -> UInt64 {
            var fingerprint = Fingerprint()
            fingerprint.combine(record.userId)
            fingerprint.combine(record.record)
            return fingerprint.value
        }
    }

    func user(_ id: String, _ state: String) -> Retain_V1_MovedUser { Retain_V1_MovedUser(userId: id, record: Array(state.utf8)) }

    @Test("a copy replaces, a fenced user is refused and cannot be copied back, a drop removes only fenced users")
    func rules() throws {
        var shard = Toy()
        try shard.applyMoves(UserMoves(imported: [user("a", "1"), user("b", "1")], ringVersion: 2))
        try shard.applyMoves(UserMoves(imported: [user("a", "2")], ringVersion: 2))
        #expect(shard.movableUserIDs == ["a", "b"])
        #expect(shard.userRecord("a")?.record == Array("2".utf8))
        #expect(shard.fences.importedVersion == 2)

        #expect(throws: UserMoveError.refused("user 'b' is not fenced: its state cannot be removed")) {
            try shard.applyMoves(UserMoves(dropped: ["b"]))
        }
        try shard.applyMoves(UserMoves(fenced: ["a"], ringVersion: 3))
        #expect(throws: UserMoveError.moved(userID: "a")) { try shard.refuseIfMoved("a") }
        try shard.refuseIfMoved("b")
        let before = shard.movableUserIDs
        #expect(throws: UserMoveError.refused("user 'a' moved away from this shard: it cannot be copied here")) {
            try shard.applyMoves(UserMoves(imported: [user("c", "1"), user("a", "3")]))
        }
        #expect(shard.movableUserIDs == before, "a refused change leaves the state as it was")
        // Lifting the fence in the same change lets the copy in (an abandoned move, copied again).
        try shard.applyMoves(UserMoves(imported: [user("a", "3")], unfenced: ["a"]))
        #expect(shard.userRecord("a")?.record == Array("3".utf8))
        try shard.refuseIfMoved("a")

        try shard.applyMoves(UserMoves(fenced: ["a"], ringVersion: 3))
        try shard.applyMoves(UserMoves(dropped: ["a"]))
        try shard.applyMoves(UserMoves(dropped: ["a"]))
        #expect(shard.movableUserIDs == ["b"])
        #expect(throws: UserMoveError.moved(userID: "a")) { try shard.refuseIfMoved("a") }
    }

    @Test(
        "a report for a ring older than the one before the last fence is refused once users left for it (groups fence again soon after each drop)"
    )
    func reportBehindTwoGroups() throws {
        func answers(_ state: Toy, _ version: UInt64) -> Bool { (try? state.refuseReport(ringVersion: version)) != nil }
        var source = Toy()
        try source.importUsers([user("a", "1"), user("b", "1"), user("c", "1")])
        // Group 1 moved a (ring 2); group 2 fences b (ring 3) while ring 2 routes.
        try source.applyMoves(UserMoves(fenced: ["a"], ringVersion: 2))
        try source.applyMoves(UserMoves(dropped: ["a"]))
        try source.applyMoves(UserMoves(fenced: ["b"], ringVersion: 3))
        #expect(answers(source, 2), "ring 2 routes: b is still here, a left")
        #expect(!answers(source, 1), "ring 1 counted a here, which left")
        #expect(!answers(source, 3), "b is still here")
    }

    @Test("an abandoned move (its fences lifted) routes new users and reports by the ring before it again")
    func abandonedMove() throws {
        var source = Toy()
        try source.importUsers([user("a", "1"), user("b", "1"), user("c", "1")])
        // A first move to ring 2 finished: a left.
        try source.applyMoves(UserMoves(fenced: ["a"], ringVersion: 2))
        try source.applyMoves(UserMoves(dropped: ["a"]))
        // A move to ring 3 fenced b, then was abandoned.
        try source.applyMoves(UserMoves(fenced: ["b"], ringVersion: 3))
        #expect(throws: UserMoveError.self) { try source.refuseNewUser(ringVersion: 2) }
        try source.applyMoves(UserMoves(unfenced: ["b"], ringVersion: 3))
        try source.refuseIfMoved("b")
        try source.refuseNewUser(ringVersion: 2)
        try source.refuseReport(ringVersion: 2)
        #expect(throws: UserMoveError.self, "a gateway still on ring 1 misses a, which left") { try source.refuseReport(ringVersion: 1) }
        #expect(throws: UserMoveError.moved(userID: "a")) { try source.refuseIfMoved("a") }
        // The same move started again fences as before.
        try source.applyMoves(UserMoves(fenced: ["b"], ringVersion: 3))
        #expect(throws: UserMoveError.self) { try source.refuseNewUser(ringVersion: 2) }
    }

    @Test("reports: old ring versions until the first drop, none in between, the new one after the last; copies from their version on")
    func reports() throws {
        func answers(_ state: Toy, _ version: UInt64) -> Bool { (try? state.refuseReport(ringVersion: version)) != nil }
        var source = Toy()
        try source.importUsers([user("a", "1"), user("b", "1"), user("c", "1")])
        #expect(answers(source, 1) && answers(source, 2) && answers(source, 0))
        try source.applyMoves(UserMoves(fenced: ["a", "b"], ringVersion: 2))
        #expect(answers(source, 1) && !answers(source, 2) && answers(source, 0))
        try source.applyMoves(UserMoves(dropped: ["a"]))
        #expect(!answers(source, 1) && !answers(source, 2))
        try source.applyMoves(UserMoves(dropped: ["b"]))
        #expect(!answers(source, 1) && answers(source, 2) && answers(source, 3))
        #expect(throws: UserMoveError.ringVersion(asked: 1, reason: "users moving to ring version 2 left already")) {
            try source.refuseReport(ringVersion: 1)
        }

        var target = Toy()
        try target.applyMoves(UserMoves(imported: [user("a", "1")], ringVersion: 2))
        #expect(!answers(target, 1) && answers(target, 2) && answers(target, 0))
    }

    @Test("a shared log entry and the fences' snapshot record keep a change and the fences as they were")
    func records() throws {
        let moves = UserMoves(imported: [user("a", "x")], fenced: ["f"], unfenced: ["u"], dropped: ["d"], ringVersion: 7)
        let entry = Retain_V1_UsersMoved(moves, userID: Toy.userID(of:))
        let decoded = try UserMoves<Retain_V1_MovedUser>(try ProtoCodec.decode(Retain_V1_UsersMoved.self, from: ProtoCodec.encode(entry)))
        #expect(decoded.imported == moves.imported)
        #expect(decoded.fenced == ["f"] && decoded.unfenced == ["u"] && decoded.dropped == ["d"] && decoded.ringVersion == 7)

        var shard = Toy()
        try shard.applyMoves(UserMoves(imported: [user("a", "1")], ringVersion: 4))
        try shard.applyMoves(UserMoves(fenced: ["a", "z"], ringVersion: 5))
        try shard.applyMoves(UserMoves(dropped: ["a"]))
        let record = try ProtoCodec.decode(Retain_V1_UserFencesRecord.self, from: ProtoCodec.encode(shard.fences.record))
        #expect(UserFences(record) == shard.fences)
        #expect(record.fencedUsers == ["a", "z"])

        var broken = entry
        broken.imported[0].record = [0xFF, 0xFF, 0xFF]
        #expect(throws: UserMoveError.self) { try UserMoves<Retain_V1_MovedUser>(broken) }
    }

    @Test("a checksum hashes a map in key order")
    func mapOrder() {
        var one = Fingerprint()
        one.combine(sorted: ["b": "2", "a": "1"])
        var two = Fingerprint()
        two.combine(sorted: ["a": "1", "b": "2"])
        var three = Fingerprint()
        three.combine(sorted: ["a": "12"])
        #expect(one.value == two.value)
        #expect(one.value != three.value)
    }
}
