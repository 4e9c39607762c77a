@testable import LedgerCore
import LedgerService
import RetainProto
import RetainWire
import Testing

@Suite("penalties and referrals")
struct RewardTests {
    func referral(_ invitee: String, inviter: String, inviterReward: Int64 = 50, inviteeReward: Int64 = 20) -> Retain_V1_LedgerEntry {
        .init(
            kind: .rewardReferral,
            rewardReferral: .init(
                userId: invitee, inviterUserId: inviter, campaignId: "camp",
                inviterReward: .init(value: inviterReward, asset: "points"),
                inviteeReward: .init(value: inviteeReward, asset: "points")))
    }

    @Test("a referral pays inviter and invitee once, however often it is retried")
    func referralOnce() {
        var ledger = fundedLedger(users: [])
        let first = ledger.apply(referral("newbie", inviter: "alice"))
        #expect(first.error == nil && first.results.map(\.code) == [.ok, .ok] && !first.replayed)
        for _ in 0..<3 {
            let retry = ledger.apply(referral("newbie", inviter: "alice"))
            #expect(retry.replayed && retry.results.map(\.sequence) == first.results.map(\.sequence))
        }
        #expect(ledger.balance("alice").balance == 50 && ledger.balance("newbie").balance == 20)
        let other = ledger.apply(referral("newbie", inviter: "bob"))
        #expect(other.error?.status.code == .alreadyExists)
        #expect(ledger.balance("bob").balance == 0)
        ledger.expectInvariants()
    }

    @Test("a referral the budget cannot pay pays nobody, and may be retried later")
    func referralBudgetExhausted() {
        var ledger = LedgerHarness()
        ledger.open("budget:camp:points", cap: 60)
        let refused = ledger.apply(referral("newbie", inviter: "alice"))
        #expect(refused.error?.status.code == .failedPrecondition)
        #expect(refused.error?.status.details["result"] == "TRANSFER_RESULT_CODE_BUDGET_EXCEEDED")
        #expect(ledger.balance("alice").balance == 0 && ledger.balance("newbie").balance == 0)
        _ = ledger.apply(
            .init(
                kind: .setAccountCap,
                setAccountCap: .init(
                    accountId: "budget:camp:points", capped: true, cap: 100, actor: "ops", reason: "top up")))
        #expect(ledger.apply(referral("newbie", inviter: "alice")).results.map(\.code) == [.ok, .ok])
        let missing = ledger.apply(
            .init(
                kind: .rewardReferral,
                rewardReferral: .init(
                    userId: "x", inviterUserId: "y", campaignId: "nobudget", inviteeReward: .init(value: 1, asset: "points"))))
        #expect(missing.error?.status.details["result"] == "TRANSFER_RESULT_CODE_ACCOUNT_NOT_FOUND")
    }

    @Test("an inviter past its daily cap is paid nothing more that day; the same referral pays the next day; a replay agrees")
    func referralDailyCap() throws {
        var ledger = fundedLedger(users: [])
        func capped(_ invitee: String) -> Retain_V1_LedgerEntry {
            var entry = referral(invitee, inviter: "host")
            entry.rewardReferral?.inviterDailyCap = 2
            return entry
        }
        ledger.now += 9 * 3_600_000
        #expect(ledger.apply(capped("g1")).results.count == 2)
        #expect(ledger.apply(capped("g2")).results.count == 2)
        let third = ledger.apply(capped("g3"))
        #expect(third.inviterCapped && third.results.isEmpty && third.error == nil)
        #expect(ledger.balance("host").balance == 100 && ledger.balance("g3").balance == 0)
        // Retries of the referrals paid today still answer their first results.
        #expect(ledger.apply(capped("g1")).replayed)
        // Another inviter is not held back.
        #expect(ledger.apply(referral("g4", inviter: "other")).results.count == 2)
        ledger.now += 86_400_000
        let nextDay = ledger.apply(capped("g3"))
        #expect(!nextDay.inviterCapped && nextDay.results.map(\.code) == [.ok, .ok])
        #expect(ledger.balance("host").balance == 150)
        let replayed = try ledger.replayed()
        #expect(replayed.referralsRewarded(inviter: "host", onDayOf: ledger.now) == 1)
        #expect(replayed.referralsRewarded(inviter: "host", onDayOf: ledger.now - 86_400_000) == 2)
        ledger.expectInvariants()
    }

    @Test("a penalty takes value with its reason; partly when allowed; retries answer the first")
    func penalty() {
        var ledger = fundedLedger(users: ["mallory"], amount: 30)
        let request = Retain_V1_PenalizeRequest(
            userId: "mallory", transferId: "pen-1", amount: .init(value: 50, asset: "points"),
            reason: "fake orders", actor: "risk-team", allowPartial: false)
        #expect(ledger.apply(.init(kind: .penalize, penalize: request)).error?.status.code == .failedPrecondition)
        var partial = request
        partial.allowPartial = true
        let taken = ledger.apply(.init(kind: .penalize, penalize: partial))
        #expect(taken.penalized == 30 && taken.results.first?.code == .ok)
        #expect(ledger.balance("mallory").balance == 0 && ledger.account("penalty:points")?.balance == 30)
        #expect(ledger.apply(.init(kind: .penalize, penalize: partial)).replayed)
        var changed = partial
        changed.reason = "other"
        #expect(ledger.apply(.init(kind: .penalize, penalize: changed)).error?.status.code == .alreadyExists)
        let record = ledger.state.lookupTransfers(["pen-1"]).transfers[0]
        #expect(record.transfer?.reason == "fake orders" && record.transfer?.kind == .penalty)
        ledger.expectInvariants()
    }
}
