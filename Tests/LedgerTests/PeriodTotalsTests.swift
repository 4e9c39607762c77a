@testable import LedgerCore
import RetainProto
import Testing

/// GetPeriodTotals: the whole ledger's flows per day, week and month, checked against an
/// oracle of the movements the test itself made.
@Suite("flows per period")
struct PeriodTotalsTests {
    /// What the test expects of one movement it made: when, which figure, how much.
    struct Expected {
        var atMs: Int64
        var issued: Int64 = 0
        var spent: Int64 = 0
        var expired: Int64 = 0
        var penalized: Int64 = 0
        var adjusted: Int64 = 0
        var held: Int64 = 0
        var net: Int64 = 0
    }

    /// 60 days of issues, redemptions, refunds, holds posted and voided, penalties,
    /// adjustments, moves between users and expiries, with the oracle of each.
    static func workload() -> (LedgerHarness, [Expected], Int64) {
        var ledger = LedgerHarness()
        let start = ledger.now
        ledger.open("budget:camp:points")
        ledger.open("system:adjust:points")
        ledger.open("budget:camp:coupon.tea")
        var expected: [Expected] = []
        var seed: UInt64 = 7
        func next(_ bound: Int64) -> Int64 {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int64((seed >> 33) % UInt64(bound))
        }
        let users = ["amy", "ben", "cai", "dan"]
        for day in 0..<60 {
            ledger.now = start + Int64(day) * LedgerHarness.day + 3_600_000 + next(20) * 3_600_000
            let user = users[Int(next(4))]
            let kinds: [Retain_V1_TransferKind] = [.issue, .welcomeBonus, .taskReward, .compensation]
            let amount = 10 + next(90)
            // Issued, some lots expiring after 10 days (to "exp", who never spends).
            #expect(
                ledger.transfer(transfer("i\(day)", "budget:camp:points", "user:\(user):points", amount, kind: kinds[day % 4])).code
                    == .ok)
            expected.append(Expected(atMs: ledger.now, issued: amount, net: amount))
            if day % 3 == 0 {
                #expect(
                    ledger.transfer(
                        transfer(
                            "x\(day)", "budget:camp:points", "user:exp:points", 5, expiresAtMs: ledger.now + 10 * LedgerHarness.day)
                    ).code == .ok)
                expected.append(Expected(atMs: ledger.now, issued: 5, net: 5))
            }
            let balance = ledger.balance(user).available
            switch day % 6 {
            case 1 where balance >= 8:
                ledger.transfer(transfer("r\(day)", "user:\(user):points", "redemption:points", 8, kind: .redemption))
                expected.append(Expected(atMs: ledger.now, spent: 8, net: -8))
                ledger.now += 60_000
                ledger.transfer(transfer("f\(day)", "redemption:points", "user:\(user):points", 3, kind: .refund))
                expected.append(Expected(atMs: ledger.now, spent: -3, net: 3))
            case 2 where balance >= 6:
                ledger.transfer(transfer("h\(day)", "user:\(user):points", "redemption:points", 6, kind: .redemption, pending: true))
                expected.append(Expected(atMs: ledger.now, held: 6))
                ledger.now += 60_000
                #expect(ledger.post("h\(day)", id: "p\(day)", amount: 4).error == nil)
                expected.append(Expected(atMs: ledger.now, spent: 4, net: -4))
            case 3 where balance >= 5:
                ledger.transfer(transfer("v\(day)", "user:\(user):points", "redemption:points", 5, kind: .redemption, pending: true))
                expected.append(Expected(atMs: ledger.now, held: 5))
                #expect(ledger.void("v\(day)", id: "vv\(day)").error == nil)
            case 4 where balance >= 4:
                let penalty = Retain_V1_PenalizeRequest(
                    userId: user, transferId: "n\(day)", amount: .init(value: 4, asset: "points"), reason: "abuse", actor: "risk")
                #expect(ledger.apply(.init(kind: .penalize, penalize: penalty)).error == nil)
                expected.append(Expected(atMs: ledger.now, penalized: 4, net: -4))
            case 5 where balance >= 7:
                ledger.transfer(transfer("a\(day)", "user:\(user):points", "system:adjust:points", 7, kind: .adjustment))
                expected.append(Expected(atMs: ledger.now, adjusted: 7, net: -7))
                // Between two users: counted nowhere.
                ledger.transfer(transfer("u\(day)", "user:\(user):points", "user:zed:points", 2, kind: .adjustment))
            default:
                break
            }
            // Lots of "exp" due by now expire (their amounts are known: "exp" never spends).
            let before = ledger.balance("exp").balance
            _ = ledger.expire()
            let after = ledger.balance("exp").balance
            if before != after { expected.append(Expected(atMs: ledger.now, expired: before - after, net: after - before)) }
        }
        // Another asset: must stay apart.
        ledger.transfer(transfer("t", "budget:camp:coupon.tea", "user:amy:coupon.tea", 1, asset: "coupon.tea"))
        ledger.expectInvariants()
        return (ledger, expected, start)
    }

    @Test("each day's, week's and month's figures equal the oracle's sums, and net is issued less what left the users")
    func matchesTheOracle() throws {
        let (ledger, expected, start) = Self.workload()
        #expect(expected.contains { $0.expired > 0 } && expected.contains { $0.penalized > 0 } && expected.contains { $0.held > 0 })
        let end = start + 60 * LedgerHarness.day
        for period in [Retain_V1_SummaryPeriod.day, .week, .month] {
            // From the middle of a day: the first period is cut to the range.
            let from = start + 5 * LedgerHarness.day + 12 * 3_600_000
            let answer = try ledger.state.periodTotals(
                .init(range: .init(startMs: from, endMs: end), period: period, assets: ["points"]))
            let points = try #require(answer.assets.first)
            #expect(answer.assets.map(\.asset) == ["points"])
            #expect(points.periods.first?.startMs == from && points.periods.last?.endMs == end)
            for (one, next) in zip(points.periods, points.periods.dropFirst()) { #expect(one.endMs == next.startMs) }
            if period == .day { #expect(points.periods.count == 55) }
            if period == .month { #expect(points.periods.count == 3, "January from the 6th, February, then March 1") }
            for one in points.periods {
                let inside = expected.filter { $0.atMs >= one.startMs && $0.atMs < one.endMs }
                #expect(one.issued == inside.reduce(0) { $0 + $1.issued })
                #expect(one.spent == inside.reduce(0) { $0 + $1.spent })
                #expect(one.expired == inside.reduce(0) { $0 + $1.expired })
                #expect(one.penalized == inside.reduce(0) { $0 + $1.penalized })
                #expect(one.adjusted == inside.reduce(0) { $0 + $1.adjusted })
                #expect(one.held == inside.reduce(0) { $0 + $1.held })
                #expect(one.net == inside.reduce(0) { $0 + $1.net })
                #expect(one.net == one.issued - one.spent - one.expired - one.penalized - one.adjusted)
            }
            let inRange = expected.filter { $0.atMs >= from && $0.atMs < end }
            #expect(points.total?.issued == inRange.reduce(0) { $0 + $1.issued })
            #expect(points.total?.net == inRange.reduce(0) { $0 + $1.net })
            #expect(points.issuedByKind.reduce(0) { $0 + $1.credited } == points.total?.issued)
        }
        // Over everything, net is what the users hold.
        let all = try ledger.state.periodTotals(.init(range: .init(startMs: start, endMs: end + 1), period: .month))
        #expect(all.assets.map(\.asset) == ["coupon.tea", "points"])
        let held = ["amy", "ben", "cai", "dan", "exp", "zed"].reduce(Int64(0)) { $0 + ledger.balance($1).balance }
        #expect(all.assets[1].total?.net == held)
    }

    @Test("bad ranges, zones and too many periods are refused naming the field")
    func refusals() {
        let state = LedgerState()
        #expect(throws: LedgerError.invalid(field: "range", reason: "both start_ms and end_ms are required")) {
            try state.periodTotals(.init(range: .init(startMs: 1)))
        }
        #expect(throws: LedgerError.invalid(field: "range.end_ms", reason: "must be greater than start_ms")) {
            try state.periodTotals(.init(range: .init(startMs: 10, endMs: 5)))
        }
        #expect(throws: LedgerError.invalid(field: "time_zone", reason: "Mars/Base is not an IANA time zone")) {
            try state.periodTotals(.init(range: .init(startMs: 1, endMs: 5), timeZone: "Mars/Base"))
        }
        #expect(throws: LedgerError.invalid(field: "range", reason: "holds more than 1000 periods")) {
            try state.periodTotals(.init(range: .init(startMs: 1, endMs: 2000 * LedgerHarness.day), period: .day))
        }
        // Weeks start on Monday in the zone asked: 2026-01-05 is a Monday.
        let weeks = try? LedgerState.periodBounds(
            start: 1_767_225_600_000, end: 1_767_225_600_000 + 14 * LedgerHarness.day, period: .week, timeZone: "Asia/Shanghai")
        #expect(weeks?[1] == 1_767_225_600_000 + 4 * LedgerHarness.day - 8 * 3_600_000)
    }
}
