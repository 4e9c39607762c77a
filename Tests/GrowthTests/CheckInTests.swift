@testable import GrowthCore
import RetainProto
import Testing

@Suite("check-ins and streaks")
struct CheckInTests {
    @Test("consecutive days grow the streak and earn the configured bonuses, repeating ones included")
    func streakBonuses() throws {
        var state = GrowthState()
        var bonuses: [Int64] = []
        for day in 0..<14 {
            let answer = try state.checkIn("u", at: utc(2025, 3, 1, 9) + Int64(day) * dayMs)
            #expect(answer.streakDays == UInt32(day + 1) && answer.baseGrowth == 5)
            bonuses.append(answer.bonusGrowth)
        }
        #expect(bonuses == [0, 0, 10, 0, 0, 0, 50, 0, 0, 0, 0, 0, 0, 50])
        #expect(state.view(userID: "u", timeZone: "", at: utc(2025, 3, 14, 10), rules: testRules).totalGrowth == 14 * 5 + 110)
    }

    @Test("a second check-in on the same local day is answered and not counted")
    func twiceADay() throws {
        var state = GrowthState()
        let first = try state.checkIn("u", at: utc(2025, 3, 10, 1))
        let decision = state.planCheckIn(userID: "u", timeZone: "", at: utc(2025, 3, 10, 23), rules: testRules)
        guard case .unchanged(let second) = decision else {
            Issue.record("a second check-in must change nothing")
            return
        }
        #expect(second.alreadyCheckedIn && second.awardedGrowth == 0 && second.streakDays == 1)
        #expect(second.totalGrowth == first.totalGrowth && second.localDate == "2025-03-10")
    }

    @Test("a missed day resets the streak to 1 and the view shows 0 until the next check-in")
    func missedDay() throws {
        var state = GrowthState()
        try state.checkIn("u", at: utc(2025, 3, 10, 8))
        try state.checkIn("u", at: utc(2025, 3, 11, 8))
        #expect(state.view(userID: "u", timeZone: "", at: utc(2025, 3, 12, 8), rules: testRules).streakDays == 2)
        let view = state.view(userID: "u", timeZone: "", at: utc(2025, 3, 13, 8), rules: testRules)
        #expect(view.streakDays == 0 && view.longestStreak == 2 && !view.checkedInToday)
        let answer = try state.checkIn("u", at: utc(2025, 3, 13, 8))
        #expect(answer.streakDays == 1 && answer.longestStreak == 2)
        #expect(
            state.view(userID: "u", timeZone: "", at: utc(2025, 3, 13, 9), rules: testRules).recentCheckInDates
                == ["2025-03-10", "2025-03-11", "2025-03-13"])
    }

    @Test("streaks follow local days: consecutive UTC days can skip a local day, and one UTC day can hold two")
    func streakAcrossTimeZones() throws {
        var state = GrowthState()
        // Los Angeles: 23:00 on the 10th, then 01:00 on the 12th. In UTC these are 06:00 on the
        // 11th and 08:00 on the 12th — consecutive UTC days, but the 11th was missed locally.
        try state.checkIn("la", at: local("America/Los_Angeles", 2025, 3, 10, 23), zone: "America/Los_Angeles")
        let broken = try state.checkIn("la", at: local("America/Los_Angeles", 2025, 3, 12, 1), zone: "America/Los_Angeles")
        #expect(broken.streakDays == 1 && broken.localDate == "2025-03-12")
        // Shanghai (UTC+8): 09:00 on the 10th and 07:00 on the 11th are both on the 10th in UTC,
        // yet they are consecutive local days.
        let first = local("Asia/Shanghai", 2025, 3, 10, 9)
        let second = local("Asia/Shanghai", 2025, 3, 11, 7)
        #expect(CivilDate.utcDay(ms: first) == CivilDate.utcDay(ms: second))
        try state.checkIn("sh", at: first, zone: "Asia/Shanghai")
        let next = try state.checkIn("sh", at: second, zone: "Asia/Shanghai")
        #expect(next.streakDays == 2 && !next.alreadyCheckedIn)
    }

    @Test("after moving to a zone that is a day behind, checking in again for an earlier day awards nothing")
    func zoneChangeBackwards() throws {
        var state = GrowthState()
        let at = utc(2025, 3, 10, 20)  // 2025-03-11 04:00 in Shanghai, 2025-03-10 13:00 in Los Angeles
        try state.checkIn("u", at: at, zone: "Asia/Shanghai")
        let again = try state.checkIn("u", at: at + hourMs, zone: "America/Los_Angeles")
        #expect(again.alreadyCheckedIn && again.awardedGrowth == 0 && again.localDate == "2025-03-10")
    }

    @Test("check-in growth ignores the daily caps and levels up like any growth")
    func notCapped() throws {
        var state = GrowthState()
        for index in 0..<4 { try state.award("u", "post", key: "p\(index)", at: utc(2025, 3, 10, 8)) }
        for index in 0..<4 { try state.award("u", "share", key: "s\(index)", at: utc(2025, 3, 10, 8)) }
        // 100 from posts (their cap) and 20 from shares: the total cap of 120 is reached.
        #expect(try state.award("u", "share", key: "s5", at: utc(2025, 3, 10, 8)).limit == .totalDailyCap)
        let answer = try state.checkIn("u", at: utc(2025, 3, 10, 9))
        #expect(answer.awardedGrowth == 5 && answer.totalGrowth == 125)
        #expect(answer.level == 2 && !answer.levelledUp)  // Silver came with the posts
        let view = state.view(userID: "u", timeZone: "", at: utc(2025, 3, 10, 10), rules: testRules)
        #expect(view.todayGrowth == 125 && view.checkedInToday)
    }

    @Test("a retry with the check-in's idempotency key answers the first answer, its tasks and level change included, even the next day")
    func keyedRetryReplays() throws {
        var state = GrowthState()
        try state.award("u", "post", key: "p1", at: utc(2025, 3, 10, 8))
        try state.award("u", "post", key: "p2", at: utc(2025, 3, 10, 8))
        try state.award("u", "login", key: "l1", at: utc(2025, 3, 10, 8))  // 70 growth: Bronze
        let request = Retain_V1_CheckInRequest(userId: "u", atMs: utc(2025, 3, 10, 9), idempotencyKey: "ci-1")
        let first = try state.commit(state.planCheckIn(request, at: request.atMs, now: utc(2025, 3, 10, 9), rules: testRules))
        #expect(!first.alreadyCheckedIn && !first.replayed)
        #expect(first.completedTasks.map(\.taskId) == ["daily_check_in"])
        // Without the key, a lost answer could only be asked again as already_checked_in,
        // which names no task: the caller could never pay the task's reward.
        let unkeyed = state.planCheckIn(userID: "u", timeZone: "", at: utc(2025, 3, 10, 10), rules: testRules)
        #expect(unkeyed.answer.alreadyCheckedIn && unkeyed.answer.completedTasks.isEmpty)
        let decision = try state.planCheckIn(request, at: request.atMs, now: utc(2025, 3, 11, 7), rules: testRules)
        guard case .unchanged(let retry) = decision else {
            Issue.record("a retry must change nothing")
            return
        }
        #expect(retry.replayed && !retry.alreadyCheckedIn)
        #expect(retry.completedTasks == first.completedTasks && retry.awardedGrowth == first.awardedGrowth)
        #expect(retry.totalGrowth == 75 && retry.streakDays == 1)
    }

    @Test("a check-in that crosses a level answers the level change again to a retry")
    func keyedRetryKeepsLevelChange() throws {
        var state = GrowthState()
        for index in 0..<3 { try state.award("u", "post", key: "p\(index)", at: utc(2025, 3, 10, 8)) }  // 90
        try state.award("u", "share", key: "s", at: utc(2025, 3, 10, 8))  // 95
        let request = Retain_V1_CheckInRequest(userId: "u", atMs: utc(2025, 3, 10, 9), idempotencyKey: "ci")
        let first = try state.commit(state.planCheckIn(request, at: request.atMs, now: utc(2025, 3, 10, 9), rules: testRules))
        #expect(first.levelledUp && first.fromLevel == 1 && first.toLevel == 2 && first.levelEventPosition == 1)
        let retry = try state.commit(state.planCheckIn(request, at: request.atMs, now: utc(2025, 3, 10, 9), rules: testRules))
        #expect(retry.replayed && retry.levelledUp && retry.fromLevel == 1 && retry.toLevel == 2)
        #expect(retry.levelEventPosition == 1 && state.headPosition == 1)
    }

    @Test("a check-in key reused with another body, or an award's key, is refused naming idempotency_key")
    func keyReusedElsewhere() throws {
        var state = GrowthState()
        try state.award("u", "login", key: "k", at: utc(2025, 3, 10, 8))
        let request = Retain_V1_CheckInRequest(userId: "u", atMs: utc(2025, 3, 10, 9), idempotencyKey: "k")
        #expect(throws: GrowthError.self) { _ = try state.planCheckIn(request, at: request.atMs, now: request.atMs, rules: testRules) }
        var other = request
        other.idempotencyKey = "c"
        _ = try state.commit(state.planCheckIn(other, at: other.atMs, now: other.atMs, rules: testRules))
        other.atMs += hourMs
        #expect(throws: GrowthError.self) { _ = try state.planCheckIn(other, at: other.atMs, now: other.atMs, rules: testRules) }
    }

    @Test("a keyed check-in survives a restart: the log replayed into a new state answers the retry")
    func keyedCheckInReplaysFromTheLog() throws {
        let original = GrowthState()
        let request = Retain_V1_CheckInRequest(userId: "u", atMs: utc(2025, 3, 10, 9), idempotencyKey: "ci")
        guard
            case .changed(let entry, let answer) = try original.planCheckIn(request, at: request.atMs, now: request.atMs, rules: testRules)
        else {
            Issue.record("a first check-in is a change")
            return
        }
        var restarted = GrowthState()
        try restarted.apply(entry)
        let retry = try restarted.planCheckIn(request, at: request.atMs, now: request.atMs, rules: testRules).answer
        #expect(retry.replayed && retry.localDate == answer.localDate && retry.completedTasks == answer.completedTasks)
    }
}
