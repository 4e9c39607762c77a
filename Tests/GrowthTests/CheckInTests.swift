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
        #expect(state.view(userID: "u", timeZone: "", at: utc(2025, 3, 13, 9), rules: testRules).recentCheckInDates
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
}
