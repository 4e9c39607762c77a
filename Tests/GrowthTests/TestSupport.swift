import Foundation
@testable import GrowthCore
import RetainProto

/// Unix ms of a UTC wall-clock time.
func utc(_ year: Int, _ month: Int, _ day: Int, _ hour: Int = 0, _ minute: Int = 0) -> Int64 {
    CivilDate.utcStartMs(CivilDate.dayNumber(year: year, month: month, day: day)) + Int64(hour * 3_600_000 + minute * 60_000)
}

/// Unix ms of a wall-clock time in an IANA zone.
func local(_ zone: String, _ year: Int, _ month: Int, _ day: Int, _ hour: Int = 0, _ minute: Int = 0) -> Int64 {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = TimeZone(identifier: zone)!
    let date = calendar.date(from: DateComponents(year: year, month: month, day: day, hour: hour, minute: minute))!
    return Int64((date.timeIntervalSince1970 * 1000).rounded())
}

let hourMs: Int64 = 3_600_000
let dayMs: Int64 = 86_400_000

/// Small rules that make edges easy to reach: login 10 (cap 20), post 30 (cap 100),
/// purchase 1 per 100 (cap 500), total cap 120.
let testRules = try! GrowthRules(
    GrowthRules.Configuration(
        tiers: [
            .init(name: "Bronze", minGrowth: 0, privileges: [.init(name: "discount_percent", value: "0")]),
            .init(name: "Silver", minGrowth: 100, privileges: [.init(name: "discount_percent", value: "2", label: "2% off")]),
            .init(
                name: "Gold", minGrowth: 300,
                privileges: [
                    .init(name: "discount_percent", value: "5"),
                    .init(name: "free_shipping", value: "true"),
                ]),
        ],
        actions: [
            .init(action: "login", growth: 10, dailyCap: 20),
            .init(action: "post", growth: 30, dailyCap: 100),
            .init(action: "purchase", growthPerUnit: 1, unitValue: 100, dailyCap: 500),
            .init(action: "share", growth: 5),
        ],
        dailyTotalCap: 120,
        checkIn: .init(growth: 5, streakBonuses: [.init(days: 3, growth: 10), .init(days: 7, growth: 50, repeat: true)]),
        tasks: [
            .init(
                id: "daily_login", title: "Log in today", action: "login", target: 1, period: "daily",
                reward: .init(asset: "points", value: 5)),
            .init(
                id: "weekly_posts", title: "Post 3 times this week", action: "post", target: 3, period: "weekly",
                reward: .init(asset: "coupon.free_shipping", value: 1)),
            .init(
                id: "first_purchase", title: "First purchase", action: "purchase", target: 1, period: "once",
                reward: .init(asset: "points", value: 100)),
            .init(
                id: "daily_check_in", title: "Check in", action: "check_in", target: 1, period: "daily",
                reward: .init(asset: "points", value: 1)),
        ]))

extension GrowthState {
    /// Applies a decision the way the service does: log (apply) the entry if there is one.
    mutating func commit<A>(_ decision: GrowthDecision<A>) throws -> A {
        if case .changed(let entry, _) = decision { try apply(entry) }
        return decision.answer
    }

    /// Awards `action` and applies it.
    @discardableResult
    mutating func award(
        _ user: String, _ action: String, key: String, value: Int64 = 0, at ms: Int64,
        zone: String = "", rules: GrowthRules = testRules
    ) throws -> Retain_V1_AwardGrowthResponse {
        let request = Retain_V1_AwardGrowthRequest(
            userId: user, action: action, idempotencyKey: key, value: value,
            occurredAtMs: ms, timeZone: zone)
        return try commit(planAward(request, at: ms, now: ms, rules: rules))
    }

    /// Checks in and applies it.
    @discardableResult
    mutating func checkIn(
        _ user: String, at ms: Int64, zone: String = "",
        rules: GrowthRules = testRules
    ) throws -> Retain_V1_CheckInResponse {
        try commit(planCheckIn(userID: user, timeZone: zone, at: ms, rules: rules))
    }

    /// Claims a task and applies it.
    @discardableResult
    mutating func claim(
        _ user: String, _ task: String, period: String = "", key: String, at ms: Int64,
        zone: String = ""
    ) throws -> Retain_V1_ClaimTaskRewardResponse {
        let request = Retain_V1_ClaimTaskRewardRequest(
            userId: user, taskId: task, periodKey: period,
            idempotencyKey: key, timeZone: zone, atMs: ms)
        return try commit(planClaim(request, at: ms, rules: testRules))
    }
}
