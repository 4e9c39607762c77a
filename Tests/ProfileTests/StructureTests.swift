@testable import ProfileCore
import Testing

@Suite("compact structures: event-id set, user index, zone calendar")
struct StructureTests {
    @Test("the event-id set finds every hash it holds across growth and a snapshot round trip")
    func eventIDs() throws {
        var set = EventIDSet()
        var keys: [UInt64] = []
        for user in 0..<2000 {
            for event in 0..<5 { keys.append(EventIDSet.key(userIndex: Int32(user), eventID: "e\(event)")) }
        }
        var inserted = 0
        for key in keys where set.insert(key) { inserted += 1 }
        #expect(inserted == keys.count)
        var reinserted = 0
        for key in keys where set.insert(key) { reinserted += 1 }
        #expect(reinserted == 0, "a second insert reports a duplicate")
        #expect(set.count == keys.count)
        #expect(!set.contains(EventIDSet.key(userIndex: 1, eventID: "e9")))
        #expect(
            EventIDSet.key(userIndex: 1, eventID: "e1") != EventIDSet.key(userIndex: 2, eventID: "e1"),
            "the same event id of two users is two events")
        var restored = EventIDSet()
        for shard in 0..<EventIDSet.shardCount {
            let contents = set.shardContents(shard)
            try restored.restoreShard(shard, slotCount: contents.slotCount, occupied: contents.occupied, hashes: contents.hashes)
        }
        #expect(restored.count == keys.count)
        #expect(keys.allSatisfy { restored.contains($0) })
        #expect(throws: EventIDSetError.self) { try restored.restoreShard(0, slotCount: 16, occupied: [0xff, 0], hashes: []) }
    }

    @Test("the user index resolves every id it filed, and nothing else")
    func userIndex() {
        var index = UserIndex()
        let ids = (0..<5000).map { "user-\($0)" }
        for (position, id) in ids.enumerated() { index.insert(hash: UserIndex.hash(id), index: Int32(position)) }
        for (position, id) in ids.enumerated() {
            #expect(index.find(hash: UserIndex.hash(id)) { ids[Int($0)] == id } == Int32(position))
        }
        #expect(index.find(hash: UserIndex.hash("stranger")) { ids[Int($0)] == "stranger" } == nil)
    }

    @Test("local days follow the zone's offsets, daylight saving included; weeks start on Monday")
    func zoneCalendar() throws {
        let berlin = try #require(ZoneCalendar.named("Europe/Berlin"))
        // 2025-03-30 is the day Berlin moves to summer time: 23 hours long.
        let springDay = berlin.day(of: 1_743_289_200_000)  // 2025-03-30 00:00 CET
        #expect(berlin.startOfDay(springDay) == 1_743_289_200_000)
        #expect(berlin.startOfDay(springDay + 1) - berlin.startOfDay(springDay) == 23 * 3_600_000)
        #expect(berlin.minuteOfDay(1_743_289_200_000 + 3 * 3_600_000) == 4 * 60, "03:00 UTC is 04:00 CEST after the switch")
        let shanghai = try #require(ZoneCalendar.named("Asia/Shanghai"))
        #expect(
            shanghai.day(of: 1_748_793_600_000) == ZoneCalendar.utc.day(of: 1_748_793_600_000) + 1,
            "16:00 UTC is already the next day in Shanghai")
        let monday = ZoneCalendar.utc.day(of: 1_748_822_400_000)  // 2025-06-02, a Monday
        #expect(ZoneCalendar.weekStart(ofDay: monday) == monday)
        #expect(ZoneCalendar.weekStart(ofDay: monday + 6) == monday)
        #expect(ZoneCalendar.weekStart(ofDay: monday + 7) == monday + 7)
        #expect(ZoneCalendar.named("Nowhere/Special") == nil)
    }
}
