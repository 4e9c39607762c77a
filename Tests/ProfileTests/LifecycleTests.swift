@testable import ProfileCore
import RetainProto
import Testing

@Suite("lifecycle stages")
struct LifecycleTests {
    @Test("new, active, churn risk as visits stop, silent after 7 idle days, churned after 30, recalled on return, active 14 days later")
    func transitions() throws {
        var fixture = ProfileFixture()
        try fixture.register("u")
        try fixture.active("u", days: 0...10)
        #expect(fixture.stage("u", onDay: 0) == .new)
        #expect(fixture.stage("u", onDay: 6) == .new)
        #expect(fixture.stage("u", onDay: 7) == .active)
        #expect(fixture.stage("u", onDay: 13) == .active)
        #expect(fixture.stage("u", onDay: 14) == .active, "4 events in the complete days 7...13 against 7 usually")
        #expect(fixture.stage("u", onDay: 15) == .churnRisk, "3 events in the complete days 8...14 against 7 usually")
        #expect(fixture.stage("u", onDay: 16) == .churnRisk, "6 idle days: not yet silent")
        #expect(fixture.stage("u", onDay: 17) == .silent, "7 idle days")
        #expect(fixture.stage("u", onDay: 39) == .silent)
        #expect(fixture.stage("u", onDay: 40) == .churned, "30 idle days")
        try fixture.active("u", days: 50...70)
        #expect(fixture.stage("u", onDay: 50) == .recalled)
        #expect(fixture.stage("u", onDay: 63) == .recalled)
        #expect(fixture.stage("u", onDay: 64) == .active)

        let lifecycle = try fixture.lifecycle("u", onDay: 64)
        #expect(lifecycle.history.map(\.toStage) == [.active, .recalled, .churned, .silent, .churnRisk, .active, .new])
        #expect(lifecycle.history.last?.atMs == monday, "NEW starts at registration")
        #expect(lifecycle.sinceMs == monday + 64 * day)
        #expect(lifecycle.history[2].atMs == monday + 40 * day)
    }

    @Test("a user who never acts goes silent then churned, counting from registration")
    func neverActive() throws {
        var fixture = ProfileFixture()
        try fixture.register("idle")
        #expect(fixture.stage("idle", onDay: 7) == .silent)
        #expect(fixture.stage("idle", onDay: 30) == .churned)
        #expect(fixture.stage("idle", onDay: -1) == .unspecified, "before registration")
    }

    @Test("a late event inside the gap turns a recalled user back into an active one")
    func lateEventFillsGap() throws {
        var fixture = ProfileFixture()
        try fixture.register("late")
        try fixture.active("late", days: 0...10)
        try fixture.active("late", days: 45...50)
        #expect(fixture.stage("late", onDay: 50) == .recalled)
        try fixture.active("late", days: [25])
        #expect(fixture.stage("late", onDay: 50) == .active, "no 30-day gap any more")
    }

    @Test("activity well below the user's own baseline is churn risk with the main reason")
    func churnRisk() throws {
        var fixture = ProfileFixture()
        try fixture.register("fading")
        try fixture.active("fading", days: 0..<35, perDay: 4)
        try fixture.active("fading", days: [36, 40], perDay: 1)
        let lifecycle = try fixture.lifecycle("fading", onDay: 41)
        #expect(lifecycle.stage == .churnRisk)
        #expect(lifecycle.churnReason == .activityDrop)
        #expect(lifecycle.baselineRate > lifecycle.recentRate * 2)
        #expect(lifecycle.reason.contains("against"))

        var steady = ProfileFixture()
        try steady.register("steady")
        try steady.active("steady", days: 0..<42, perDay: 3)
        #expect(steady.stage("steady", onDay: 41) == .active)
    }

    @Test("fewer active days than usual is a frequency drop even when busy on those days")
    func frequencyDrop() throws {
        var fixture = ProfileFixture()
        try fixture.register("rare")
        try fixture.active("rare", days: 0..<34, perDay: 2)
        try fixture.active("rare", days: [35], perDay: 14)
        let lifecycle = try fixture.lifecycle("rare", onDay: 41)
        #expect(lifecycle.stage == .churnRisk)
        #expect(lifecycle.churnReason == .frequencyDrop)
        #expect(lifecycle.recentActiveDays == 1)
    }

    @Test("purchases falling well below the baseline are a purchase drop")
    func purchaseDrop() throws {
        var fixture = ProfileFixture()
        try fixture.register("shopper")
        try fixture.active("shopper", days: 0..<42, perDay: 2, kind: "visit")
        var purchases: [Retain_V1_ActivityEvent] = []
        for number in 0..<35 where number % 3 == 0 {
            purchases.append(fixture.event("shopper", at: monday + Int64(number) * day + 1000, kind: "purchase", value: 10))
        }
        try fixture.record(purchases)
        let lifecycle = try fixture.lifecycle("shopper", onDay: 41)
        #expect(lifecycle.stage == .churnRisk)
        #expect(lifecycle.churnReason == .purchaseDrop)
    }

    @Test("thresholds come from the configuration")
    func configurableThresholds() throws {
        var fixture = ProfileFixture()
        var rules = LifecycleRules()
        rules.silentDays = 3
        rules.newDays = 1
        fixture.evaluator = LifecycleEvaluator(rules: rules)
        try fixture.register("quick")
        try fixture.active("quick", days: [0, 1])
        #expect(fixture.stage("quick", onDay: 3) == .active)
        #expect(fixture.stage("quick", onDay: 4) == .silent)
        var bad = LifecycleRules()
        bad.churnedDays = 5
        #expect(bad.problems().contains { $0.hasPrefix("lifecycle.churned_days") })
    }
}
