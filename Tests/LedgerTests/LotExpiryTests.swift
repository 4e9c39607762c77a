@testable import LedgerCore
import RetainProto
import Testing

@Suite("lots and expiry")
struct LotExpiryTests {
    let day = LedgerHarness.day

    @Test("spending takes the oldest lot first, whatever expires first")
    func oldestFirst() {
        var ledger = fundedLedger(users: [])
        ledger.transfer(transfer("lot-a", "budget:camp:points", "user:amy:points", 30, expiresAtMs: ledger.now + 10 * day))
        ledger.now += 1
        ledger.transfer(transfer("lot-b", "budget:camp:points", "user:amy:points", 20, expiresAtMs: ledger.now + 5 * day))
        ledger.transfer(transfer("spend", "user:amy:points", "redemption:points", 35, kind: .redemption))
        let lots = ledger.state.balances(.init(userId: "amy", includeLots: true), now: ledger.now).balances[0].lots
        #expect(lots.map(\.lotId) == ["lot-b"], "lot-a is used up")
        #expect(lots.first?.remaining == 15)
        ledger.expectInvariants()
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
        #expect(soon.expiringSoon == 20 && soon.nextExpiryAmount == 20 && soon.nextExpiryAtMs == ledger.now + day)
        #expect(!ledger.state.lotsDue(at: ledger.now))
        ledger.now += day
        #expect(ledger.state.lotsDue(at: ledger.now))
        let first = ledger.expire()
        #expect(first.expiredLots == 1 && first.expired == [Retain_V1_Amount(value: 20, asset: "points")])
        #expect(ledger.balance("amy").balance == 25)
        #expect(ledger.account("expiry:points")?.balance == 20)
        #expect(ledger.state.lookupTransfers(["expiry:lot-b"]).transfers.first?.transfer?.amount == 20)
        #expect(ledger.expire().expiredLots == 0, "a lot expires once")
        ledger.now += 5 * day
        #expect(ledger.expire().expired == [Retain_V1_Amount(value: 20, asset: "points")], "lot-a's 20 left after spending 10")
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
        ledger.transfer(transfer("c", "budget:camp:coupon.free_shipping", "user:amy:coupon.free_shipping", 2,
                                 asset: "coupon.free_shipping", expiresAtMs: ledger.now + day))
        let outcome = ledger.apply(.init(kind: .expireLots, expireLots: .init(
            asOfMs: ledger.now + 2 * day, assets: ["coupon.free_shipping"])))
        #expect(outcome.expired == [Retain_V1_Amount(value: 2, asset: "coupon.free_shipping")])
        #expect(ledger.balance("amy").balance == 3)
    }
}
