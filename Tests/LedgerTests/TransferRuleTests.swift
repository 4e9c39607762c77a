@testable import LedgerCore
import LedgerService
import RetainProto
import RetainWire
import Testing

@Suite("transfers")
struct TransferRuleTests {
    @Test("a debit beyond a user's available balance is refused and changes nothing")
    func overdraftRefused() throws {
        var ledger = fundedLedger(users: ["alice"], amount: 10)
        let length = ledger.state.journalLength
        let result = ledger.transfer(transfer("r1", "user:alice:points", "redemption:points", 11, kind: .redemption))
        #expect(result.code == .insufficientFunds)
        #expect(result.sequence == 0)
        #expect(ledger.balance("alice").balance == 10)
        #expect(ledger.state.journalLength == length)
        #expect(ledger.transfer(transfer("r2", "user:alice:points", "redemption:points", 10, kind: .redemption)).code == .ok)
        #expect(ledger.balance("alice").balance == 0)
        ledger.expectInvariants()
    }

    @Test("a refund cannot take more from redemption than was redeemed")
    func redemptionNeverNegative() {
        var ledger = fundedLedger(users: ["alice"], amount: 10)
        #expect(ledger.transfer(transfer("r1", "user:alice:points", "redemption:points", 4, kind: .redemption)).code == .ok)
        #expect(ledger.transfer(transfer("f1", "redemption:points", "user:alice:points", 5, kind: .refund)).code == .insufficientFunds)
        #expect(ledger.transfer(transfer("f2", "redemption:points", "user:alice:points", 4, kind: .refund)).code == .ok)
    }

    @Test("a capped budget issues down to -cap and no further; the cap cannot drop below what was issued")
    func budgetCap() {
        var ledger = LedgerHarness()
        ledger.open("budget:spring:points", cap: 100)
        #expect(ledger.transfer(transfer("a", "budget:spring:points", "user:alice:points", 60)).code == .ok)
        #expect(ledger.transfer(transfer("b", "budget:spring:points", "user:bob:points", 50)).code == .budgetExceeded)
        #expect(ledger.transfer(transfer("c", "budget:spring:points", "user:bob:points", 40)).code == .ok)
        #expect(ledger.account("budget:spring:points")?.balance == -100)
        let lower = ledger.apply(
            .init(
                kind: .setAccountCap,
                setAccountCap: .init(
                    accountId: "budget:spring:points", capped: true, cap: 99, actor: "ops", reason: "test")))
        #expect(lower.error?.status.code == .failedPrecondition)
        let raise = ledger.apply(
            .init(
                kind: .setAccountCap,
                setAccountCap: .init(
                    accountId: "budget:spring:points", capped: true, cap: 150, actor: "ops", reason: "test")))
        #expect(raise.account?.cap == 150)
        #expect(ledger.transfer(transfer("d", "budget:spring:points", "user:bob:points", 50)).code == .ok)
        ledger.expectInvariants()
    }

    @Test("each malformed field has its own result code")
    func resultCodes() {
        var ledger = fundedLedger(users: ["alice"])
        let cases: [(Retain_V1_Transfer, Retain_V1_TransferResultCode)] = [
            (transfer("", "budget:camp:points", "user:alice:points", 1), .invalidTransferId),
            (transfer("has space", "budget:camp:points", "user:alice:points", 1), .invalidTransferId),
            (transfer("expiry:x", "budget:camp:points", "user:alice:points", 1), .invalidTransferId),
            (transfer("referral:bob:invitee", "budget:camp:points", "user:bob:points", 1), .invalidTransferId),
            (transfer("t1", "budget:camp", "user:alice:points", 1), .invalidAccountId),
            (transfer("t2", "user:alice:points", "user:alice:points", 1), .sameAccount),
            (transfer("t3", "budget:camp:points", "user:alice:points", 0), .invalidAmount),
            (transfer("t4", "budget:camp:points", "user:alice:points", (1 << 53) + 1), .invalidAmount),
            (transfer("t5", "budget:camp:points", "user:alice:points", 1, asset: "coins"), .invalidAsset),
            (transfer("t6", "budget:camp:points", "user:alice:points", 1, kind: .unspecified), .invalidKind),
            (transfer("t7", "budget:camp:points", "user:alice:points", 1, kind: .expiry), .invalidKind),
            (transfer("t8", "budget:camp:points", "user:alice:points", 1, timeoutMs: 5), .invalidTimeout),
            (transfer("t9", "budget:camp:points", "user:alice:points", 1, expiresAtMs: ledger.now - 1), .invalidExpiry),
            (transfer("t10", "user:alice:points", "redemption:points", 1, kind: .redemption, expiresAtMs: ledger.now + 5), .invalidExpiry),
            (transfer("t11", "budget:other:points", "user:alice:points", 1), .accountNotFound),
        ]
        for (item, code) in cases {
            #expect(ledger.transfer(item).code == code, "\(item.transferId)")
        }
        #expect(ledger.account("budget:other:points") == nil)
        ledger.expectInvariants()
    }

    @Test("a retry with the same id and body answers the first result; a different body is refused")
    func idempotentRetries() {
        var ledger = fundedLedger(users: ["alice"], amount: 50)
        let first = ledger.transfer(transfer("order-1", "user:alice:points", "redemption:points", 20, kind: .redemption))
        #expect(first.code == .ok && !first.replayed)
        ledger.now += 1000
        let again = ledger.transfer(transfer("order-1", "user:alice:points", "redemption:points", 20, kind: .redemption))
        #expect(again.code == .ok && again.replayed)
        #expect(again.sequence == first.sequence && again.committedAtMs == first.committedAtMs)
        let different = ledger.transfer(transfer("order-1", "user:alice:points", "redemption:points", 21, kind: .redemption))
        #expect(different.code == .existsWithDifferentBody)
        let otherReason = ledger.transfer(
            transfer(
                "order-1", "user:alice:points", "redemption:points", 20, kind: .redemption,
                reason: "changed"))
        #expect(otherReason.code == .existsWithDifferentBody)
        #expect(ledger.balance("alice").balance == 30)
        ledger.expectInvariants()
    }

    @Test("a linked chain failing in the middle applies none of it; transfers after it go on")
    func linkedChainFailsInTheMiddle() {
        var ledger = fundedLedger(users: ["alice"], amount: 10)
        let results = ledger.transfers([
            transfer("c1", "budget:camp:points", "user:carol:points", 5, linked: true),
            transfer("c2", "user:alice:points", "redemption:points", 50, kind: .redemption, linked: true),
            transfer("c3", "budget:camp:points", "user:alice:points", 5),
            transfer("d1", "budget:camp:points", "user:dave:points", 7),
        ])
        #expect(results.map(\.code) == [.linkedEventFailed, .insufficientFunds, .linkedEventFailed, .ok])
        #expect(results.map(\.index) == [0, 1, 2, 3])
        #expect(ledger.account("user:carol:points") == nil, "an account opened by a failed chain is closed again")
        #expect(ledger.balance("alice").balance == 10)
        #expect(ledger.balance("dave").balance == 7)
        #expect(ledger.state.lookupTransfers(["c1", "c2", "c3"]).missingIds == ["c1", "c2", "c3"])
        ledger.expectInvariants()
    }

    @Test("a later transfer of a chain may spend what an earlier one credited; a chain left open fails")
    func chainSeesItsOwnEffects() {
        var ledger = fundedLedger(users: [])
        let results = ledger.transfers([
            transfer("a", "budget:camp:points", "user:erin:points", 5, linked: true),
            transfer("b", "user:erin:points", "redemption:points", 5, kind: .redemption),
            transfer("c", "budget:camp:points", "user:erin:points", 1, linked: true),
        ])
        #expect(results.map(\.code) == [.ok, .ok, .linkedChainOpen])
        #expect(ledger.balance("erin").balance == 0)
        let twice = ledger.transfers([
            transfer("x", "budget:camp:points", "user:erin:points", 5, linked: true),
            transfer("x", "budget:camp:points", "user:erin:points", 5),
        ])
        #expect(twice.map(\.code) == [.linkedEventFailed, .invalidTransferId])
        ledger.expectInvariants()
    }

    @Test("replaying the log rebuilds the same state and chain head")
    func replayIsDeterministic() throws {
        var ledger = fundedLedger(users: ["alice", "bob"], amount: 100)
        ledger.transfer(transfer("p1", "user:alice:points", "redemption:points", 30, kind: .redemption))
        ledger.transfer(transfer("h1", "user:bob:points", "redemption:points", 40, kind: .redemption, pending: true))
        _ = ledger.post("h1", id: "h1-post", amount: 25)
        let replayed = try ledger.replayed()
        #expect(replayed.chainHead == ledger.state.chainHead)
        #expect(replayed.journalLength == ledger.state.journalLength)
        #expect(replayed.balance(user: "bob", asset: "points", now: ledger.now) == ledger.balance("bob"))
        #expect(replayed.verifyChain().verified)
    }

    @Test("a changed amount in the log is caught by the hash chain at replay")
    func tamperedLogRefused() throws {
        var ledger = fundedLedger(users: ["alice"], amount: 100)
        ledger.transfer(transfer("p1", "user:alice:points", "redemption:points", 30, kind: .redemption))
        ledger.transfer(transfer("p2", "user:alice:points", "redemption:points", 5, kind: .redemption))
        var tampered = ledger.log
        let index = tampered.firstIndex { $0.transfers.first?.transferId == "p1" }!
        tampered[index].transfers[0].amount = 3
        var fresh = LedgerState()
        #expect(throws: (any Error).self) {
            for entry in tampered { try fresh.apply(entry) }
        }
    }

    @Test("audit sums every account to zero per asset and reports totals by kind")
    func audit() {
        var ledger = fundedLedger(users: ["alice", "bob"], amount: 100)
        ledger.transfer(transfer("p1", "user:alice:points", "redemption:points", 30, kind: .redemption))
        ledger.transfer(transfer("c1", "budget:camp:points", "user:alice:points", 7, asset: "points"))
        ledger.open("system:adjust:credit.cny")
        ledger.transfer(transfer("m1", "system:adjust:credit.cny", "user:bob:credit.cny", 500, kind: .adjustment, asset: "credit.cny"))
        let audit = ledger.state.audit(.init(verifyChain: true), at: ledger.now)
        #expect(audit.balanced)
        #expect(audit.chainVerified && audit.firstBadSequence == 0)
        #expect(audit.journalLength == 5)
        #expect(audit.assets.map(\.asset) == ["credit.cny", "points"])
        let points = audit.assets[1]
        #expect(points.net == 0 && points.totalCredits == 237 && points.userBalances == 177)
        #expect(points.byKind.first { $0.kind == .redemption }?.debited == 30)
    }
}
