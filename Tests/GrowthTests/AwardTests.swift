@testable import GrowthCore
import GrowthService
import RetainProto
import RetainWire
import Testing

@Suite("awards, caps and idempotency")
struct AwardTests {
    let monday = utc(2025, 3, 10, 9)

    @Test("an action's daily cap is reached exactly, then cuts the award, then awards nothing")
    func actionCapEdges() throws {
        var state = GrowthState()
        // login: 10 per award, cap 20.
        let first = try state.award("u1", "login", key: "k1", at: monday)
        #expect(first.awardedGrowth == 10 && first.limit == .unspecified && first.todayGrowth == 10)
        let second = try state.award("u1", "login", key: "k2", at: monday + 1)
        #expect(second.awardedGrowth == 10 && second.limit == .unspecified && second.todayGrowth == 20)
        let third = try state.award("u1", "login", key: "k3", at: monday + 2)
        #expect(third.awardedGrowth == 0 && third.requestedGrowth == 10 && third.limit == .actionDailyCap)
        #expect(third.totalGrowth == 20)
        // post: 30 per award, cap 100: the fourth post gets only the 10 that remain.
        for index in 0..<3 { try state.award("u2", "post", key: "p\(index)", at: monday) }
        let partial = try state.award("u2", "post", key: "p3", at: monday)
        #expect(partial.awardedGrowth == 10 && partial.requestedGrowth == 30 && partial.limit == .actionDailyCap)
    }

    @Test("the total daily cap limits the sum over actions, and says so")
    func totalCap() throws {
        var state = GrowthState()
        // 90 from posts, 20 from logins = 110; the total cap is 120.
        for index in 0..<3 { try state.award("u", "post", key: "p\(index)", at: monday) }
        try state.award("u", "login", key: "l1", at: monday)
        try state.award("u", "login", key: "l2", at: monday)
        let share = try state.award("u", "share", key: "s1", at: monday)
        #expect(share.awardedGrowth == 5 && share.limit == .unspecified)
        let cut = try state.award("u", "share", key: "s2", at: monday)
        #expect(cut.awardedGrowth == 5 && cut.limit == .unspecified && cut.todayGrowth == 120)
        let none = try state.award("u", "share", key: "s3", at: monday)
        #expect(none.awardedGrowth == 0 && none.limit == .totalDailyCap)
        // A purchase that would give 300 gets nothing either: the total cap binds first.
        let purchase = try state.award("u", "purchase", key: "b1", value: 30_000, at: monday)
        #expect(purchase.requestedGrowth == 300 && purchase.awardedGrowth == 0 && purchase.limit == .totalDailyCap)
    }

    @Test("caps start again on the next local day of the user's time zone")
    func capsResetOnLocalDay() throws {
        var state = GrowthState()
        // 23:30 and 23:50 in Shanghai on 2025-03-10, then 00:10 on the 11th (all the same UTC day).
        try state.award("u", "login", key: "a", at: local("Asia/Shanghai", 2025, 3, 10, 23, 30), zone: "Asia/Shanghai")
        try state.award("u", "login", key: "b", at: local("Asia/Shanghai", 2025, 3, 10, 23, 50), zone: "Asia/Shanghai")
        let capped = try state.award("u", "login", key: "c", at: local("Asia/Shanghai", 2025, 3, 10, 23, 55))
        #expect(capped.awardedGrowth == 0 && capped.localDate == "2025-03-10")
        // No zone in the request: the user's last zone (Shanghai) decides the day.
        let nextDay = try state.award("u", "login", key: "d", at: local("Asia/Shanghai", 2025, 3, 11, 0, 10))
        #expect(nextDay.awardedGrowth == 10 && nextDay.localDate == "2025-03-11" && nextDay.todayGrowth == 10)
    }

    @Test("a retry returns the first answer, marked replayed, and counts nothing twice")
    func idempotentRetry() throws {
        var state = GrowthState()
        let first = try state.award("u", "purchase", key: "order-1", value: 9_999, at: monday)
        #expect(first.awardedGrowth == 99 && !first.replayed)
        // Later awards change the total; the retry still answers the first answer.
        try state.award("u", "login", key: "login-1", at: monday + hourMs)
        let retry = try state.award("u", "purchase", key: "order-1", value: 9_999, at: monday)
        var expected = first
        expected.replayed = true
        #expect(retry == expected)
        #expect(state.view(userID: "u", timeZone: "", at: monday, rules: testRules).totalGrowth == 109)
    }

    @Test("the same key with a different body is ALREADY_EXISTS; keys are per user")
    func keyReuse() throws {
        var state = GrowthState()
        try state.award("u", "purchase", key: "order-1", value: 10_000, at: monday)
        #expect(throws: GrowthError.self) { try state.award("u", "purchase", key: "order-1", value: 20_000, at: monday) }
        do {
            try state.award("u", "login", key: "order-1", at: monday)
            Issue.record("expected ALREADY_EXISTS")
        } catch let error as GrowthError {
            #expect(error.status.code == .alreadyExists)
        }
        // Another user may use the same key.
        #expect(try state.award("v", "purchase", key: "order-1", value: 10_000, at: monday).awardedGrowth == 100)
    }

    @Test("an action without a rule awards 0 with NO_RULE")
    func noRule() throws {
        var state = GrowthState()
        let answer = try state.award("u", "dance", key: "d1", at: monday)
        #expect(answer.awardedGrowth == 0 && answer.limit == .noRule && answer.level == 1 && answer.levelName == "Bronze")
    }

    @Test("an award that crosses tiers reports the level-up and records one event per change")
    func levelUp() throws {
        // Without caps, so that one award can cross two tiers.
        var configuration = testRules.configuration
        configuration.dailyTotalCap = nil
        configuration.actions = [.init(action: "purchase", growthPerUnit: 1, unitValue: 100), .init(action: "post", growth: 30)]
        let rules = try GrowthRules(configuration)
        var state = GrowthState()
        let bronze = try state.award("u", "purchase", key: "p1", value: 9_900, at: monday, rules: rules)
        #expect(!bronze.levelledUp && bronze.level == 1 && bronze.fromLevel == 1 && bronze.levelEventPosition == 0)
        // 99 + 400 = 499 crosses Silver (100) and Gold (300) at once: one event 1 -> 3.
        let gold = try state.award("u", "purchase", key: "p2", value: 40_000, at: monday + 1, rules: rules)
        #expect(gold.levelledUp && gold.fromLevel == 1 && gold.toLevel == 3 && gold.levelName == "Gold")
        #expect(gold.levelEventPosition == 1)
        let other = try state.award("v", "post", key: "x", at: monday + 2, rules: rules)
        #expect(!other.levelledUp)
        for index in 0..<4 { try state.award("v", "post", key: "y\(index)", at: monday + 3, rules: rules) }
        let events = state.events(after: 0, upTo: .max, limit: 10)
        #expect(events.map(\.position) == [1, 2])
        #expect(events[0].userId == "u" && events[0].fromLevel == 1 && events[0].toLevel == 3 && events[0].causeKey == "p2")
        #expect(events[1].userId == "v" && events[1].toLevelName == "Silver" && events[1].totalGrowth == 120)
        #expect(state.events(after: 1, upTo: .max, limit: 10).map(\.position) == [2])
        #expect(state.headPosition == 2)
    }

    @Test("awards for days older than the kept counters are refused rather than escaping the caps")
    func oldDays() throws {
        var state = GrowthState()
        try state.award("u", "login", key: "now", at: monday)
        #expect(throws: GrowthError.self) { try state.award("u", "login", key: "old", at: monday - 8 * dayMs) }
        #expect(try state.award("u", "login", key: "recent", at: monday - 6 * dayMs).awardedGrowth == 10)
    }
}
