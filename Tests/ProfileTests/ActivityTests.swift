@testable import ProfileCore
import RetainProto
import Testing

@Suite("activity")
struct ActivityTests {
    @Test("a batch reports each event: accepted, duplicate (earlier or in the batch), unknown user, deleted user, invalid")
    func batchOutcomes() throws {
        var fixture = ProfileFixture()
        try fixture.register("ann")
        try fixture.register("gone")
        if case .delete(let entry) = try fixture.state.planDeletion(userID: "gone", reason: "r", actor: "a", now: monday) {
            try fixture.state.apply(entry)
        }
        let first = Retain_V1_ActivityEvent(userId: "ann", eventId: "x1", kind: "login", occurredAtMs: monday + 10)
        try fixture.record([first])
        let events = [
            Retain_V1_ActivityEvent(userId: "ann", eventId: "x1", kind: "login", occurredAtMs: monday + 10),
            Retain_V1_ActivityEvent(userId: "ann", eventId: "x2", kind: "visit", occurredAtMs: monday + 20),
            Retain_V1_ActivityEvent(userId: "ann", eventId: "x2", kind: "visit", occurredAtMs: monday + 20),
            Retain_V1_ActivityEvent(userId: "nobody", eventId: "x3", kind: "visit", occurredAtMs: monday),
            Retain_V1_ActivityEvent(userId: "gone", eventId: "x4", kind: "visit", occurredAtMs: monday),
            Retain_V1_ActivityEvent(userId: "ann", eventId: "x5", kind: "BAD", occurredAtMs: monday),
        ]
        let invalid = [5: Retain_V1_ItemError(index: 5, code: 3, field: "kind", message: "bad")]
        let plan = try fixture.plan(events, invalid: invalid, now: monday + day)
        #expect(plan.outcomes == [.duplicate, .accepted, .duplicate, .unknownUser, .userDeleted, .invalid])
        #expect(plan.acceptedCount == 1)
        #expect(plan.duplicateCount == 2)
        #expect(plan.errors.map(\.index) == [3, 4, 5])
        #expect(plan.errors.map(\.field) == ["user_id", "user_id", "kind"])
        let profile = fixture.state.profile(
            fixture.state.userIndex("ann")!, now: monday + day, evaluator: fixture.evaluator,
            includeActivity: true)
        #expect(profile.activityCount == 2)
        #expect(profile.activityByKind == [.init(kind: "login", count: 1), .init(kind: "visit", count: 1)])
    }

    @Test("late and out-of-order events give the same summary as in order")
    func orderDoesNotMatter() throws {
        var ordered = ProfileFixture()
        var shuffled = ProfileFixture()
        try ordered.register("u", at: monday - 300 * day)
        try shuffled.register("u", at: monday - 300 * day)
        var events: [Retain_V1_ActivityEvent] = []
        for number in stride(from: -300, through: 60, by: 3) {
            events.append(
                Retain_V1_ActivityEvent(
                    userId: "u", eventId: "e\(number)", kind: number % 2 == 0 ? "login" : "purchase",
                    occurredAtMs: monday + Int64(number) * day + 5000,
                    value: number % 2 == 0 ? nil : Retain_V1_Amount(value: 100, asset: "cash.usd")))
        }
        try ordered.record(events)
        var generator = SeededGenerator(seed: 7)
        for event in events.shuffled(using: &generator) { try shuffled.record([event]) }
        let a = ordered.state.user(0).activity
        let b = shuffled.state.user(0).activity
        #expect(a.encoded() == b.encoded())
        #expect(a.lastActiveMs == monday + 60 * day + 5000)
        #expect(a.firstActiveMs == monday - 300 * day + 5000)
        #expect(ordered.state.user(0).purchaseTotals.first?.value == shuffled.state.user(0).purchaseTotals.first?.value)
    }

    @Test("an event older than the 256-day window still counts and is remembered as the latest older active day")
    func olderThanWindow() throws {
        var fixture = ProfileFixture()
        try fixture.register("old", at: monday - 400 * day)
        try fixture.active("old", days: [0])
        try fixture.active("old", days: [-300, -350])
        let activity = fixture.state.user(0).activity
        #expect(activity.eventCount == 3)
        #expect(activity.olderActiveDay == activity.headDay - 300)
        #expect(activity.isActive(on: activity.headDay - 300))
        #expect(!activity.isActive(on: activity.headDay - 350), "only the latest older day is kept")
        #expect(activity.retained(onDay: 50), "registration day + 50 = day -350")
        #expect(activity.retained(onDay: 100))
    }

    @Test("a window shift across many days keeps exact day bits and counts")
    func windowShift() {
        var summary = ActivitySummary(registrationDay: 1000)
        for offset in [0, 1, 63, 64, 65, 127, 128, 200] {
            summary.record(day: 1000 + Int32(offset), atMs: Int64(1000 + offset) * day, kind: 0)
        }
        summary.record(day: 1300, atMs: 1300 * day, kind: 0)
        for offset in [63, 64, 65, 127, 128, 200] {
            #expect(summary.isActive(on: 1000 + Int32(offset)), "day \(offset)")
        }
        #expect(!summary.isActive(on: 1002))
        #expect(summary.olderActiveDay == 1001, "days 0 and 1 fell out of the window; 1 is the latest")
        #expect(summary.events(on: 1300) == 1)
        #expect(summary.latestActiveDay(onOrBefore: 1299) == 1200)
    }

    @Test("purchases sum per asset and count in the purchase counters")
    func purchases() throws {
        var fixture = ProfileFixture()
        let user = try fixture.register("buyer")
        try fixture.record([
            fixture.event("buyer", at: monday + 1, kind: "purchase", value: 250),
            fixture.event("buyer", at: monday + 2, kind: "purchase", value: 750),
            fixture.event("buyer", at: monday + 3, kind: "share", value: 5),
        ])
        let profile = fixture.state.profile(user, now: monday + day, evaluator: fixture.evaluator, includeActivity: true)
        #expect(profile.purchaseTotals == [Retain_V1_Amount(value: 1000, asset: "cash.usd")])
        #expect(profile.activityByKind.map(\.kind) == ["purchase", "share"])
        #expect(profile.activityByKind.map(\.count) == [2, 1])
    }
}

/// A deterministic generator for shuffles.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return state
    }
}
