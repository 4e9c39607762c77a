@testable import LedgerCore
import LedgerService
import RetainProto
import RetainWire
import Testing

@Suite("holds")
struct HoldTests {
    @Test("a hold reserves value: available drops, the balance does not, and nobody can spend it twice")
    func holdReserves() {
        var ledger = fundedLedger(users: ["alice"], amount: 100)
        #expect(ledger.transfer(transfer("h", "user:alice:points", "redemption:points", 70, kind: .redemption, pending: true)).code == .ok)
        let balance = ledger.balance("alice")
        #expect(balance.balance == 100 && balance.held == 70 && balance.available == 30)
        #expect(ledger.transfer(transfer("x", "user:alice:points", "redemption:points", 31, kind: .redemption)).code == .insufficientFunds)
        ledger.expectInvariants()
    }

    @Test("a hold posted partly moves the posted part and returns the rest; retries answer the first post")
    func postPartly() {
        var ledger = fundedLedger(users: ["alice"], amount: 100)
        ledger.transfer(transfer("h", "user:alice:points", "redemption:points", 70, kind: .redemption, pending: true))
        let post = ledger.post("h", id: "h-post", amount: 50)
        #expect(post.error == nil)
        #expect(post.results.first?.code == .ok)
        #expect(post.hold?.state == .posted && post.hold?.postedAmount == 50 && post.hold?.resolvedByTransferId == "h-post")
        let balance = ledger.balance("alice")
        #expect(balance.balance == 50 && balance.held == 0 && balance.available == 50)
        #expect(ledger.account("redemption:points")?.balance == 50)
        let retry = ledger.post("h", id: "h-post", amount: 50)
        #expect(retry.results.first?.replayed == true && retry.results.first?.sequence == post.results.first?.sequence)
        #expect(ledger.post("h", id: "h-post", amount: 0).replayed, "amount 0 means the whole amount, as posted")
        #expect(ledger.post("h", id: "h-post", amount: 40).error?.status.code == .alreadyExists)
        #expect(ledger.post("h", id: "h-post-2").error?.status.details["result"] == "TRANSFER_RESULT_CODE_PENDING_ALREADY_POSTED")
        #expect(ledger.balance("alice").balance == 50)
        ledger.expectInvariants()
    }

    @Test("posting more than held, or a hold that does not exist, is refused")
    func postRefusals() {
        var ledger = fundedLedger(users: ["alice"], amount: 100)
        ledger.transfer(transfer("h", "user:alice:points", "redemption:points", 70, kind: .redemption, pending: true))
        #expect(ledger.post("h", id: "p1", amount: 71).error?.status.details["result"] == "TRANSFER_RESULT_CODE_AMOUNT_EXCEEDS_PENDING")
        #expect(ledger.post("nope", id: "p2").error?.status.code == .notFound)
        #expect(ledger.post("fund-alice", id: "p3").error?.status.code == .notFound, "a posted transfer is not a hold")
        #expect(ledger.balance("alice").held == 70)
    }

    @Test("a voided hold returns everything and cannot be posted afterwards")
    func void() {
        var ledger = fundedLedger(users: ["alice"], amount: 100)
        ledger.transfer(transfer("h", "user:alice:points", "redemption:points", 70, kind: .redemption, pending: true))
        let void = ledger.void("h", id: "h-void")
        #expect(void.hold?.state == .voided)
        #expect(ledger.balance("alice").available == 100)
        #expect(ledger.void("h", id: "h-void").replayed)
        #expect(ledger.post("h", id: "h-post").error?.status.details["result"] == "TRANSFER_RESULT_CODE_PENDING_ALREADY_VOIDED")
        ledger.expectInvariants()
    }

    @Test("a hold times out by itself: the sweep voids it, and a late post is refused")
    func timeout() {
        var ledger = fundedLedger(users: ["alice", "bob"], amount: 100)
        ledger.transfer(transfer("h1", "user:alice:points", "redemption:points", 60, kind: .redemption, pending: true, timeoutMs: 5000))
        ledger.transfer(transfer("h2", "user:bob:points", "redemption:points", 60, kind: .redemption, pending: true, timeoutMs: 5000))
        #expect(!ledger.state.holdsDue(at: ledger.now + 4999))
        ledger.now += 5000
        #expect(ledger.state.holdsDue(at: ledger.now))
        #expect(ledger.sweepHolds().timedOutHolds == 2)
        #expect(ledger.balance("alice").available == 100 && ledger.balance("alice").held == 0)
        let records = ledger.state.lookupTransfers(["h1", "timeout:h1"]).transfers
        #expect(records.map(\.state) == [.expired, .expired])
        #expect(ledger.post("h1", id: "late").error?.status.details["result"] == "TRANSFER_RESULT_CODE_PENDING_EXPIRED")
        #expect(ledger.sweepHolds().timedOutHolds == 0)
        ledger.expectInvariants()
    }

    @Test("a post after the timeout but before the sweep times the hold out right there")
    func timeoutBeforeSweep() {
        var ledger = fundedLedger(users: ["alice"], amount: 100)
        ledger.transfer(transfer("h", "user:alice:points", "redemption:points", 60, kind: .redemption, pending: true, timeoutMs: 1000))
        ledger.now += 1000
        #expect(ledger.post("h", id: "late").error?.status.code == .failedPrecondition)
        #expect(ledger.state.lookupTransfers(["h"]).transfers.first?.state == .expired)
        #expect(ledger.balance("alice").available == 100)
    }

    @Test("a pending credit to a user becomes a lot, with its expiry, when posted")
    func pendingCredit() {
        var ledger = fundedLedger(users: [])
        let expires = ledger.now + 10 * LedgerHarness.day
        ledger.transfer(transfer("h", "budget:camp:points", "user:zoe:points", 40, pending: true, expiresAtMs: expires))
        #expect(ledger.balance("zoe").balance == 0)
        _ = ledger.post("h", id: "h-post")
        let balance = ledger.balance("zoe")
        #expect(balance.balance == 40 && balance.nextExpiryAtMs == expires)
        ledger.expectInvariants()
    }
}
