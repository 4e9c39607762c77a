@testable import LedgerCore
import RetainProto
import Testing

@Suite("lots and expiry")
struct LotExpiryTests {
    let day = LedgerHarness.day

    @Test("spending takes the soonest-expiring lot first, whatever was credited first")
    func soonestExpiringFirst() {
        var ledger = fundedLedger(users: [])
        ledger.transfer(transfer("lot-a", "budget:camp:points", "user:amy:points", 30, expiresAtMs: ledger.now + 10 * day))
        ledger.now += 1
        ledger.transfer(transfer("lot-b", "budget:camp:points", "user:amy:points", 20, expiresAtMs: ledger.now + 5 * day))
        ledger.transfer(transfer("spend", "user:amy:points", "redemption:points", 35, kind: .redemption))
        let lots = ledger.state.balances(.init(userId: "amy", includeLots: true), now: ledger.now).balances[0].lots
        #expect(lots.map(\.lotId) == ["lot-a"], "lot-b, expiring first, is used up")
        #expect(lots.first?.remaining == 15)
        ledger.expectInvariants()
    }

    @Test("a redemption uses the 90-day task reward before the 365-day welcome reward, so nothing is lost")
    func shortLivedRewardsFirst() {
        var ledger = fundedLedger(users: [])
        ledger.transfer(transfer("welcome", "budget:camp:points", "user:amy:points", 100, expiresAtMs: ledger.now + 365 * day))
        ledger.now += day
        ledger.transfer(transfer("task", "budget:camp:points", "user:amy:points", 50, expiresAtMs: ledger.now + 90 * day))
        ledger.transfer(transfer("spend", "user:amy:points", "redemption:points", 60, kind: .redemption))
        ledger.now += 91 * day
        #expect(ledger.expire().expiredLots == 0, "the task reward was spent before it could expire")
        #expect(ledger.balance("amy").balance == 90)
        ledger.expectInvariants()
    }

    @Test("lots that never expire are spent last, after every lot with an expiry")
    func neverExpiringLast() {
        var ledger = fundedLedger(users: [])
        ledger.transfer(transfer("forever", "budget:camp:points", "user:amy:points", 40))
        ledger.transfer(transfer("late", "budget:camp:points", "user:amy:points", 10, expiresAtMs: ledger.now + 30 * day))
        ledger.transfer(transfer("early", "budget:camp:points", "user:amy:points", 10, expiresAtMs: ledger.now + 7 * day))
        ledger.transfer(transfer("spend", "user:amy:points", "redemption:points", 25, kind: .redemption))
        let lots = ledger.state.balances(.init(userId: "amy", includeLots: true), now: ledger.now).balances[0].lots
        #expect(lots.map(\.lotId) == ["forever"], "both expiring lots go before the one that never expires")
        #expect(lots.first?.remaining == 35)
        ledger.expectInvariants()
    }

    @Test("lots are listed in the order they are spent; equal expiries go by credit time")
    func listedInSpendingOrder() {
        var ledger = fundedLedger(users: [])
        let expiry = ledger.now + 20 * day
        ledger.transfer(transfer("never", "budget:camp:points", "user:amy:points", 1))
        ledger.transfer(transfer("same-1", "budget:camp:points", "user:amy:points", 1, expiresAtMs: expiry))
        ledger.transfer(transfer("later", "budget:camp:points", "user:amy:points", 1, expiresAtMs: expiry + day))
        ledger.transfer(transfer("same-2", "budget:camp:points", "user:amy:points", 1, expiresAtMs: expiry))
        ledger.transfer(transfer("sooner", "budget:camp:points", "user:amy:points", 1, expiresAtMs: expiry - day))
        let lots = ledger.state.balances(.init(userId: "amy", includeLots: true), now: ledger.now).balances[0].lots
        #expect(lots.map(\.lotId) == ["sooner", "same-1", "same-2", "later", "never"])
    }

    @Test("a hold reserves the soonest-expiring lots; voided, they return to their place in the order")
    func holdsReserveSoonestExpiring() throws {
        var ledger = fundedLedger(users: [])
        ledger.transfer(transfer("long", "budget:camp:points", "user:amy:points", 30, expiresAtMs: ledger.now + 60 * day))
        ledger.transfer(transfer("short", "budget:camp:points", "user:amy:points", 20, expiresAtMs: ledger.now + 5 * day))
        ledger.transfer(transfer("h", "user:amy:points", "redemption:points", 25, kind: .redemption, pending: true))
        var lots = ledger.state.balances(.init(userId: "amy", includeLots: true), now: ledger.now).balances[0].lots
        #expect(lots.map { [$0.lotId: $0.held] } == [["short": 20], ["long": 5]])
        _ = ledger.void("h", id: "h-void")
        ledger.transfer(transfer("spend", "user:amy:points", "redemption:points", 10, kind: .redemption))
        lots = ledger.state.balances(.init(userId: "amy", includeLots: true), now: ledger.now).balances[0].lots
        #expect(lots.map { [$0.lotId: $0.remaining] } == [["short": 10], ["long": 30]])
        ledger.expectInvariants()
        let replayed = try ledger.replayed()
        #expect(
            replayed.balances(.init(userId: "amy", includeLots: true), now: ledger.now)
                == ledger.state.balances(.init(userId: "amy", includeLots: true), now: ledger.now))
    }

    @Test("expired lots move to the expiry account on schedule, once")
    func expiryOnSchedule() {
        var ledger = fundedLedger(users: [])
        ledger.transfer(transfer("lot-a", "budget:camp:points", "user:amy:points", 30, expiresAtMs: ledger.now + 10 * day))
        ledger.transfer(transfer("lot-b", "budget:camp:points", "user:amy:points", 20, expiresAtMs: ledger.now + 5 * day))
        ledger.transfer(transfer("lot-c", "budget:camp:points", "user:amy:points", 5))
        ledger.transfer(transfer("spend", "user:amy:points", "redemption:points", 10, kind: .redemption))
        ledger.now += 4 * day
        let soon = ledger.state.balances(.init(userId: "amy", expiringWithinMs: 2 * day), now: ledger.now).balances[0]
        #expect(soon.expiringSoon == 10 && soon.nextExpiryAmount == 10 && soon.nextExpiryAtMs == ledger.now + day)
        #expect(!ledger.state.lotsDue(at: ledger.now))
        ledger.now += day
        #expect(ledger.state.lotsDue(at: ledger.now))
        let first = ledger.expire()
        #expect(first.expiredLots == 1 && first.expired == [Retain_V1_Amount(value: 10, asset: "points")])
        #expect(ledger.balance("amy").balance == 35)
        #expect(ledger.account("expiry:points")?.balance == 10)
        #expect(ledger.state.lookupTransfers(["expiry:lot-b"]).transfers.first?.transfer?.amount == 10)
        #expect(ledger.expire().expiredLots == 0, "a lot expires once")
        ledger.now += 5 * day
        #expect(ledger.expire().expired == [Retain_V1_Amount(value: 30, asset: "points")], "lot-a untouched: the spend took lot-b")
        #expect(ledger.balance("amy").balance == 5)
        ledger.expectInvariants()
    }

    @Test("the limit stops a run and says more are due")
    func limit() {
        var ledger = fundedLedger(users: [])
        for index in 0..<5 {
            ledger.transfer(transfer("l\(index)", "budget:camp:points", "user:amy:points", 1, expiresAtMs: ledger.now + day))
        }
        ledger.now += day
        let first = ledger.expire(limit: 3)
        #expect(first.expiredLots == 3 && first.more)
        let second = ledger.expire(limit: 3)
        #expect(second.expiredLots == 2 && !second.more)
    }

    @Test("held lots do not expire while held, and expire at the next run after the hold is voided")
    func heldLotsWait() {
        var ledger = fundedLedger(users: [])
        ledger.transfer(transfer("lot", "budget:camp:points", "user:amy:points", 30, expiresAtMs: ledger.now + day))
        ledger.transfer(transfer("h", "user:amy:points", "redemption:points", 10, kind: .redemption, pending: true))
        ledger.now += 2 * day
        #expect(ledger.expire().expired == [Retain_V1_Amount(value: 20, asset: "points")])
        #expect(ledger.balance("amy").balance == 10 && ledger.balance("amy").held == 10)
        _ = ledger.void("h", id: "h-void")
        #expect(ledger.balance("amy").available == 10)
        let again = ledger.expire()
        #expect(again.expired == [Retain_V1_Amount(value: 10, asset: "points")])
        #expect(ledger.state.lookupTransfers(["expiry:lot:2"]).transfers.count == 1)
        #expect(ledger.balance("amy").balance == 0)
        ledger.expectInvariants()
    }

    @Test("a future as_of expires early; other assets wait when filtered out")
    func assetFilter() {
        var ledger = fundedLedger(users: [])
        ledger.open("budget:camp:coupon.free_shipping")
        ledger.transfer(transfer("p", "budget:camp:points", "user:amy:points", 3, expiresAtMs: ledger.now + day))
        ledger.transfer(
            transfer(
                "c", "budget:camp:coupon.free_shipping", "user:amy:coupon.free_shipping", 2,
                asset: "coupon.free_shipping", expiresAtMs: ledger.now + day))
        let outcome = ledger.apply(
            .init(
                kind: .expireLots,
                expireLots: .init(
                    asOfMs: ledger.now + 2 * day, assets: ["coupon.free_shipping"])))
        #expect(outcome.expired == [Retain_V1_Amount(value: 2, asset: "coupon.free_shipping")])
        #expect(ledger.balance("amy").balance == 3)
    }
}
