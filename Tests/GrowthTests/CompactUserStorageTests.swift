@testable import GrowthCore
import RetainProto
import Testing

@Suite("compact per-user storage")
struct CompactUserStorageTests {
    func record(_ key: String, at ms: Int64) -> Retain_V1_GrowthIdempotencyRecord {
        Retain_V1_GrowthIdempotencyRecord(key: key, fingerprint: UInt64(ms), recordedAtMs: ms, answer: [UInt8(ms % 256)])
    }

    @Test("idempotency keys are found below and above the index threshold and after forgetting old ones")
    func idempotencyKeys() {
        var keys = IdempotencyKeys()
        for index in 0..<40 { keys.insert(record("key-\(index)", at: Int64(index))) }
        #expect(keys.count == 40)
        for index in 0..<40 { #expect(keys["key-\(index)"]?.recordedAtMs == Int64(index)) }
        #expect(keys["key-40"] == nil)
        keys.removeRecorded(before: 35)
        #expect(keys.count == 5)
        #expect(keys["key-34"] == nil)
        for index in 35..<40 { #expect(keys["key-\(index)"]?.fingerprint == UInt64(index)) }
        keys.insert(record("key-0", at: 50))
        #expect(keys["key-0"]?.recordedAtMs == 50)
        // A snapshot's repeated key keeps its last record, whichever side of the threshold.
        let restored = IdempotencyKeys((0..<12).map { record("key-\($0 % 10)", at: Int64($0)) })
        #expect(restored.count == 10)
        #expect(restored["key-1"]?.recordedAtMs == 11)
        #expect(restored["key-2"]?.recordedAtMs == 2)
    }

    @Test("a day counter keeps every action's growth and round-trips through its snapshot record")
    func dayCounter() {
        var day = DayCounter(localDay: 20_000)
        day.add(30, to: "post")
        day.add(10, to: "login")
        day.add(30, to: "post")
        day.add(0, to: "unknown")
        #expect(day.growth(of: "post") == 60)
        #expect(day.growth(of: "login") == 10)
        #expect(day.growth(of: "share") == 0)
        #expect(day.record.byAction == ["post": 60, "login": 10, "unknown": 0])
        let restored = DayCounter(day.record)
        #expect(restored.record == day.record)
        #expect(restored.growth(of: "post") == 60)
    }

    @Test("the user table takes a record out and puts it back in place, users in order of arrival")
    func userTable() {
        var table = UserTable()
        #expect(table.take("alice").total == 0)
        #expect(table["alice"] == nil)
        var alice = UserGrowth()
        alice.total = 7
        table.put("alice", alice)
        table.put("bob", UserGrowth())
        var taken = table.take("alice")
        taken.total += 1
        table.put("alice", taken)
        #expect(table.count == 2)
        #expect(table["alice"]?.total == 8)
        #expect(table.map(\.userID) == ["alice", "bob"])
    }

    @Test("forty awards of one user in a day all replay their first answers (past the index threshold and a prune pass)")
    func manyKeysReplay() throws {
        var state = GrowthState()
        let start = utc(2025, 3, 6, 10)
        var answers: [Retain_V1_AwardGrowthResponse] = []
        for index in 0..<40 {
            answers.append(try state.award("alice", index % 2 == 0 ? "login" : "share", key: "k\(index)", at: start + Int64(index)))
        }
        for index in 0..<40 {
            var again = try state.award("alice", index % 2 == 0 ? "login" : "share", key: "k\(index)", at: start + Int64(index))
            #expect(again.replayed)
            again.replayed = false
            #expect(again == answers[index])
        }
        #expect(state.users["alice"]?.keys.count == 40)
        // Login is capped at 20 a day, share is not capped.
        #expect(state.users["alice"]?.counter(day: CivilDate.utcDay(ms: start))?.growth(of: "login") == 20)
        #expect(state.users["alice"]?.counter(day: CivilDate.utcDay(ms: start))?.growth(of: "share") == 100)
    }
}
