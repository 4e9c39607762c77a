import Foundation
@testable import ProfileCore
import RetainProto
import Testing

/// Retention is answered from counters kept as users register, return and leave
/// (``RetentionCounts``); these tests hold them to the scan of every user, the definition, on
/// random workloads and random requests (ranges and as-of times inside days included).
@Suite("retention counted as it happens")
struct RetentionCountsTests {
    /// A workload: users registered over 40 days at random hours on four channels, events of
    /// random kinds on random days (before registration too, late and shuffled), some users
    /// deleted, some events for deleted users.
    func workload(seed: UInt64) throws -> ProfileFixture {
        var generator = SeededGenerator(seed: seed)
        var fixture = ProfileFixture()
        let channels = ["organic", "ads", "tv", "referral"]
        var users: [String] = []
        for number in 0..<300 {
            let at = monday + Int64.random(in: 0..<(40 * day), using: &generator)
            let user = "u\(number)"
            try fixture.register(user, at: at, channel: channels[Int.random(in: 0..<channels.count, using: &generator)])
            users.append(user)
        }
        var events: [Retain_V1_ActivityEvent] = []
        for _ in 0..<4000 {
            let user = users[Int.random(in: 0..<users.count, using: &generator)]
            let at = monday + Int64.random(in: (-2 * day)..<(70 * day), using: &generator)
            let kind = ["login", "visit", "purchase", "share"][Int.random(in: 0..<4, using: &generator)]
            events.append(fixture.event(user, at: at, kind: kind, value: kind == "purchase" ? 10 : 0))
        }
        events.shuffle(using: &generator)
        for part in stride(from: 0, to: events.count, by: 500) {
            try fixture.record(Array(events[part..<min(part + 500, events.count)]), now: monday + 400 * day)
            // Deletions between batches: their returns leave the counts with them.
            for _ in 0..<3 {
                let user = users[Int.random(in: 0..<users.count, using: &generator)]
                if case .delete(let entry) = try fixture.state.planDeletion(userID: user, reason: "test", actor: "t", now: monday) {
                    try fixture.state.apply(entry)
                }
            }
        }
        return fixture
    }

    /// A random request: a range (day-aligned or not), an as-of time, channels, kind, granularity.
    func request(_ generator: inout SeededGenerator) -> (Retain_V1_GetRetentionRequest, days: [Int], asOf: Int64) {
        let startDay = Int64.random(in: -3..<35, using: &generator)
        let aligned = Bool.random(using: &generator)
        let start = monday + startDay * day + (aligned ? 0 : Int64.random(in: 1..<day, using: &generator))
        let end = start + Int64.random(in: 1..<30, using: &generator) * day + (aligned ? 0 : Int64.random(in: 1..<day, using: &generator))
        let asOf = monday + Int64.random(in: 0..<75, using: &generator) * day + Int64.random(in: 0..<day, using: &generator)
        var request = Retain_V1_GetRetentionRequest(
            registered: Retain_V1_TimeRange(startMs: start, endMs: end), byChannel: Bool.random(using: &generator))
        request.granularity = Bool.random(using: &generator) ? .week : .day
        request.returnKind = ["", "login", "any"][Int.random(in: 0..<3, using: &generator)]
        if Int.random(in: 0..<3, using: &generator) == 0 { request.channels = ["ads", "tv", "nowhere"] }
        let days = [0, 1, 2, 3, 7, 14, 30].filter { _ in Bool.random(using: &generator) }
        return (request, days.isEmpty ? [1] : days, asOf)
    }

    @Test("the counters answer exactly what the scan of every user answers", arguments: [1, 2, 3] as [UInt64])
    func equalsScan(seed: UInt64) throws {
        let fixture = try workload(seed: seed)
        var generator = SeededGenerator(seed: seed &* 977)
        for _ in 0..<150 {
            let (request, days, asOf) = request(&generator)
            let counted = try fixture.state.retention(request, days: days, asOf: asOf)
            let scanned = try fixture.state.retention(request, days: days, asOf: asOf, byScan: true)
            #expect(counted == scanned, "\(request) days \(days) as of \(asOf)")
        }
    }

    @Test("after a snapshot round trip the rebuilt counters give the same answers")
    func rebuilt() throws {
        var fixture = try workload(seed: 9)
        /// Every bucket as (users, active, logged in), trailing zero days dropped.
        func normalized(_ counts: RetentionCounts) -> [String] {
            func trimmed(_ series: [UInt32]) -> [UInt32] { Array(series.reversed().drop { $0 == 0 }.reversed()) }
            return counts.buckets.compactMap { key, bucket in
                // A cell whose users all left holds nothing a report reads.
                bucket.users == 0 && trimmed(bucket.active).isEmpty && trimmed(bucket.loggedIn).isEmpty
                    ? nil : "\(key): \(bucket.users) \(trimmed(bucket.active)) \(trimmed(bucket.loggedIn))"
            }.sorted()
        }
        let before = normalized(fixture.state.retentionCounts)
        fixture.state.rebuildRetentionCounts()
        #expect(normalized(fixture.state.retentionCounts) == before)
        var generator = SeededGenerator(seed: 17)
        let reference = try workload(seed: 9)
        for _ in 0..<50 {
            let (request, days, asOf) = request(&generator)
            #expect(
                try fixture.state.retention(request, days: days, asOf: asOf)
                    == reference.state.retention(request, days: days, asOf: asOf, byScan: true))
        }
    }
}
