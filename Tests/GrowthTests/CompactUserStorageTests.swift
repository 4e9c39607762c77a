@testable import GrowthCore
import RetainProto
import RetainState
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

    @Test("idempotency keys keep long keys, empty answers and any bytes exactly, and round-trip through their snapshot records")
    func idempotencyKeysPacked() {
        var keys = IdempotencyKeys()
        let long = String(repeating: "長いキー", count: 20)
        let records = [
            Retain_V1_GrowthIdempotencyRecord(key: long, fingerprint: .max, recordedAtMs: -5, answer: Array(0...255)),
            Retain_V1_GrowthIdempotencyRecord(key: "short", fingerprint: 0, recordedAtMs: Int64.max, answer: []),
            Retain_V1_GrowthIdempotencyRecord(key: "", fingerprint: 7, recordedAtMs: 3, answer: [1]),
        ]
        for record in records { keys.insert(record) }
        #expect(keys.count == 3)
        #expect(keys.records == records)
        #expect(keys[long] == records[0])
        #expect(keys["short"] == records[1])
        #expect(keys[""] == records[2])
        #expect(keys.contains("short") && !keys.contains("shor") && !keys.contains("short!"))
        #expect(IdempotencyKeys(keys.records).records == records)
        keys.removeRecorded(before: 4)
        #expect(keys.records == [records[1]])
    }

    @Test("retained events keep their order across chunks and drop the oldest")
    func retainedEvents() {
        var events = RetainedEvents()
        let total = RetainedEvents.chunkSize * 2 + 10
        for position in 1...total { events.append(Retain_V1_LevelChangeEvent(position: UInt64(position))) }
        #expect(events.count == total)
        #expect(events.last?.position == UInt64(total))
        #expect(events.map(\.position) == (1...total).map(UInt64.init))
        #expect(events[RetainedEvents.chunkSize - 1..<RetainedEvents.chunkSize + 1].map(\.position) == [4096, 4097])
        events.removeFirst(RetainedEvents.chunkSize + 5)
        #expect(events.count == RetainedEvents.chunkSize + 5)
        #expect(events[0..<2].map(\.position) == [UInt64(RetainedEvents.chunkSize + 6), UInt64(RetainedEvents.chunkSize + 7)])
        #expect(events.map(\.position) == (RetainedEvents.chunkSize + 6...total).map(UInt64.init))
        events.append(Retain_V1_LevelChangeEvent(position: UInt64(total + 1)))
        #expect(events.last?.position == UInt64(total + 1))
        events.removeFirst(events.count)
        #expect(events.count == 0 && events.last == nil && events.map(\.position).isEmpty)
    }

    @Test("the user table finds, adds and removes users like a dictionary through growth and removals")
    func userTableAgainstDictionary() {
        var table = UserTable()
        var model: [String: Int64] = [:]
        var random = SystemRandomNumberGenerator()
        for step in 0..<20_000 {
            let userID = "u\(Int.random(in: 0..<3_000, using: &random))"
            switch step % 5 {
            case 0, 1, 2:
                var user = table.take(userID)
                #expect(user.total == model[userID] ?? 0)
                user.total += 1
                table.put(userID, user)
                model[userID, default: 0] += 1
            case 3:
                #expect(table.remove(userID)?.total == model.removeValue(forKey: userID))
            default:
                #expect(table[userID]?.total == model[userID])
            }
        }
        #expect(table.count == model.count)
        #expect(Dictionary(uniqueKeysWithValues: table.map { ($0.userID, $0.user.total) }) == model)
        for userID in model.keys { #expect(table[userID]?.total == model[userID]) }
        for userID in model.keys { table.remove(userID) }
        #expect(table.count == 0 && table["u1"] == nil)
    }

    @Test("an inline-first list behaves as an array: append, insert, change, remove, round-trip")
    func inlineFirstList() {
        var list = InlineFirstList<Int>()
        var model: [Int] = []
        #expect(list.isEmpty && list.first == nil && list.last == nil)
        for value in [5, 3, 9] {
            list.append(value)
            model.append(value)
        }
        list.insert(1, at: 0)
        model.insert(1, at: 0)
        list.insert(7, at: 2)
        model.insert(7, at: 2)
        list[1] += 10
        model[1] += 10
        #expect(Array(list) == model)
        #expect(list.lastIndex(where: { $0 > 8 }) == model.lastIndex(where: { $0 > 8 }))
        list.removeAll { $0 % 3 == 0 }
        model.removeAll { $0 % 3 == 0 }
        #expect(Array(list) == model)
        list.removeAll { _ in true }
        #expect(list.isEmpty && list.count == 0)
        list.append(4)
        #expect(Array(list) == [4] && InlineFirstList([1, 2, 3]).map { $0 * 2 } == [2, 4, 6])
    }

    @Test("a user with every field set round-trips through the packed snapshot layout; a cut one is refused")
    func packedUser() throws {
        var user = UserGrowth()
        user.total = 12_345
        user.reachedAtMs = -7
        user.timeZone = "Europe/Paris"
        user.lastCheckInDay = 20_001
        user.streak = 3
        user.longestStreak = 9
        user.level = 4
        user.prunedGrowth = 77
        user.reviewedAtMs = 1_700_000_000_000
        var day = DayCounter(localDay: 20_000)
        day.add(30, to: "post")
        day.add(10, to: "login")
        day.add(5, to: "share")
        user.days = InlineFirstList([day, DayCounter(localDay: 20_001)])
        user.tasks = InlineFirstList([
            Retain_V1_GrowthTaskProgress(
                taskId: "first_purchase", periodKey: "once", periodStartMs: 1, periodEndMs: 2, progress: 3, completedAtMs: 4,
                claimedAtMs: 5, claimAnswer: [1, 2, 3]),
            Retain_V1_GrowthTaskProgress(taskId: "daily", periodKey: "2025-03-06"),
        ])
        for index in 0..<10 { user.keys.insert(record("キー-\(index)", at: Int64(index))) }
        user.history = [
            Retain_V1_GrowthHistoryRecord(atMs: 1, kind: .award, action: "post", growth: 30, localDay: 20_000),
            Retain_V1_GrowthHistoryRecord(atMs: 2, kind: .checkIn, action: "", growth: 5, localDay: 20_001),
        ]
        user.weeks = InlineFirstList([Retain_V1_GrowthWeekScore(week: 19_998, score: 35, reachedAtMs: 2)])
        user.levelChanges = [
            Retain_V1_LevelChangeEvent(
                position: 8, userId: "ünïcode", fromLevel: 1, toLevel: 4, toLevelName: "Gold", totalGrowth: 12_345, atMs: 2,
                causeAction: "post", causeKey: "k-1")
        ]
        var writer = PackedWriter(capacity: 64)
        user.pack("ünïcode", into: &writer)
        let firstLength = writer.count
        UserGrowth().pack("", into: &writer)
        let bytes = writer.bytes
        try bytes.withUnsafeBytes { raw in
            var reader = PackedReader(raw)
            let (id, restored) = try UserGrowth.unpack(from: &reader)
            #expect(id == "ünïcode")
            #expect(restored.record(id) == user.record("ünïcode"))
            #expect(restored.days[0].growth(of: "share") == 5)
            #expect(restored.keys["キー-9"]?.recordedAtMs == 9)
            let (emptyID, empty) = try UserGrowth.unpack(from: &reader)
            #expect(emptyID == "" && empty.record("") == UserGrowth().record(""))
            #expect(reader.atEnd)
        }
        // Every cut short of the whole first user is refused, never read as a user.
        for length in stride(from: 0, to: firstLength, by: 7) {
            bytes.withUnsafeBytes { raw in
                var reader = PackedReader(UnsafeRawBufferPointer(rebasing: raw[0..<length]))
                #expect(throws: PackedError.self) { try UserGrowth.unpack(from: &reader) }
            }
        }
    }
}
