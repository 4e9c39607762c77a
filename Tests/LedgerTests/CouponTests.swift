@testable import LedgerCore
import LedgerService
import RetainProto
import RetainWire
import Testing

/// Coupons as operators run them: 满减 (spend at least X, Y off), validity, codes; issue, redeem
/// against an order amount, refund; every move a transfer of the double-entry ledger.
@Suite("coupons")
struct CouponTests {
    static let day = LedgerHarness.day

    /// "满100减20": spend at least 100.00 CNY, 20.00 off; valid 30 days from issue.
    static func fullReduction(
        _ id: String = "full100minus20", validDays: UInt32 = 30, maxIssued: UInt64 = 0, perUser: UInt32 = 0
    )
        -> Retain_V1_CouponDefinition
    {
        Retain_V1_CouponDefinition(
            couponId: id, title: "满100减20", campaignId: "spring", threshold: .init(value: 10_000, asset: "cash.cny"),
            faceValue: .init(value: 2_000, asset: "cash.cny"), validDays: validDays, maxIssued: maxIssued, perUserLimit: perUser)
    }

    func define(_ ledger: inout LedgerHarness, _ definition: Retain_V1_CouponDefinition) -> LedgerOutcome {
        ledger.apply(.init(kind: .defineCoupon, defineCoupon: .init(coupon: definition)))
    }

    func issue(_ ledger: inout LedgerHarness, _ code: String, to user: String, coupon: String = "full100minus20") -> LedgerOutcome {
        ledger.apply(.init(kind: .issueCoupon, issueCoupon: .init(couponId: coupon, userId: user, code: code)))
    }

    func redeem(
        _ ledger: inout LedgerHarness, _ code: String, by user: String, order: String, amount: Int64, asset: String = "cash.cny"
    )
        -> LedgerOutcome
    {
        ledger.apply(
            .init(
                kind: .redeemCoupon,
                redeemCoupon: .init(code: code, userId: user, orderId: order, orderAmount: .init(value: amount, asset: asset))))
    }

    func refund(_ ledger: inout LedgerHarness, _ code: String, order: String) -> LedgerOutcome {
        ledger.apply(.init(kind: .refundCoupon, refundCoupon: .init(code: code, orderId: order)))
    }

    func code(_ outcome: LedgerOutcome) -> Retain_V1_CouponResultCode? {
        if case .coupon(let code, _) = outcome.error { return code }
        return nil
    }

    @Test("满减: an order below the threshold is refused with the shortfall; at the threshold the face value comes off; books balance")
    func thresholdAndDiscount() throws {
        var ledger = LedgerHarness()
        #expect(define(&ledger, Self.fullReduction()).created)
        let issued = issue(&ledger, "C-1", to: "ana")
        #expect(issued.error == nil && issued.coupon?.state == .available)
        #expect(issued.coupon?.validUntilMs == ledger.now + 30 * Self.day)
        #expect(ledger.balance("ana", "coupon.full100minus20").available == 1)

        let short = redeem(&ledger, "C-1", by: "ana", order: "o-1", amount: 8_000)
        #expect(code(short) == .couponThresholdNotMet)
        #expect(short.error?.description.contains("2000 short") == true, "\(String(describing: short.error))")
        #expect(short.error?.status.code == .failedPrecondition)
        #expect(short.error?.status.details["result"] == "COUPON_RESULT_CODE_COUPON_THRESHOLD_NOT_MET")
        #expect(ledger.balance("ana", "coupon.full100minus20").available == 1, "a refused redemption moves nothing")

        let redeemed = redeem(&ledger, "C-1", by: "ana", order: "o-2", amount: 10_000)
        #expect(redeemed.error == nil)
        #expect(redeemed.coupon?.state == .redeemed && redeemed.coupon?.discount?.value == 2_000)
        #expect(redeemed.coupon?.orderId == "o-2")
        #expect(ledger.balance("ana", "coupon.full100minus20").available == 0)
        #expect(ledger.account("redemption:coupon.full100minus20")?.balance == 1)
        #expect(ledger.account("budget:spring:coupon.full100minus20")?.balance == -1)

        let again = redeem(&ledger, "C-1", by: "ana", order: "o-2", amount: 10_000)
        #expect(again.replayed && again.results.first?.sequence == redeemed.results.first?.sequence)
        #expect(code(redeem(&ledger, "C-1", by: "ana", order: "o-3", amount: 50_000)) == .couponAlreadyRedeemed)

        // A voucher below its face value: the order amount comes off, never below zero.
        _ = define(
            &ledger,
            .init(
                couponId: "voucher5", campaignId: "spring", faceValue: .init(value: 500, asset: "cash.cny"), validDays: 7))
        _ = issue(&ledger, "V-1", to: "ana", coupon: "voucher5")
        #expect(redeem(&ledger, "V-1", by: "ana", order: "o-4", amount: 300).coupon?.discount?.value == 300)
        ledger.expectInvariants()
    }

    @Test("a refunded order gives the coupon back with its validity; it can be redeemed again; retries answer the first")
    func refund() throws {
        var ledger = LedgerHarness()
        _ = define(&ledger, Self.fullReduction())
        _ = issue(&ledger, "C-1", to: "ana")
        #expect(code(refund(&ledger, "C-1", order: "o-1")) == .couponNotRedeemed)
        _ = redeem(&ledger, "C-1", by: "ana", order: "o-1", amount: 15_000)
        #expect(code(refund(&ledger, "C-1", order: "o-other")) == .couponNotRedeemed)
        let back = refund(&ledger, "C-1", order: "o-1")
        #expect(back.error == nil && back.coupon?.state == .available && back.coupon?.refunds == 1)
        #expect(back.coupon?.validUntilMs == ledger.now + 30 * Self.day)
        #expect(ledger.balance("ana", "coupon.full100minus20").available == 1)
        #expect(ledger.account("redemption:coupon.full100minus20")?.balance == 0)
        let retry = refund(&ledger, "C-1", order: "o-1")
        #expect(retry.replayed && retry.results.first?.sequence == back.results.first?.sequence)
        let second = redeem(&ledger, "C-1", by: "ana", order: "o-2", amount: 10_000)
        #expect(second.error == nil && second.coupon?.redemptions == 2)
        // Its validity ended: a refund does not give it back.
        ledger.now += 31 * Self.day
        #expect(code(refund(&ledger, "C-1", order: "o-2")) == .couponExpired)
        ledger.expectInvariants()
        let replayed = try ledger.replayed()
        #expect(try replayed.coupon(code: "C-1", now: ledger.now) == (try ledger.state.coupon(code: "C-1", now: ledger.now)))
    }

    @Test("validity, owner, asset, issue limits and the budget's cap are checked, each refused with its own code")
    func refusals() throws {
        var ledger = LedgerHarness()
        var later = Self.fullReduction("later")
        later.validFromMs = ledger.now + 2 * Self.day
        later.validUntilMs = ledger.now + 10 * Self.day
        later.validDays = 0
        _ = define(&ledger, later)
        _ = define(&ledger, Self.fullReduction(maxIssued: 2, perUser: 1))
        #expect(code(define(&ledger, Self.fullReduction(maxIssued: 3))) == .couponExistsWithDifferentBody)
        #expect(define(&ledger, Self.fullReduction(maxIssued: 2, perUser: 1)).created == false)
        #expect(code(issue(&ledger, "X", to: "ana", coupon: "nope")) == .couponDefinitionNotFound)

        _ = issue(&ledger, "L-1", to: "ana", coupon: "later")
        #expect(code(redeem(&ledger, "L-1", by: "ana", order: "o", amount: 20_000)) == .couponNotYetValid)
        #expect(code(redeem(&ledger, "L-1", by: "bo", order: "o", amount: 20_000)) == .couponNotOwner)
        ledger.now += 3 * Self.day
        #expect(code(redeem(&ledger, "L-1", by: "ana", order: "o", amount: 20_000, asset: "cash.usd")) == .couponOrderAssetMismatch)
        ledger.now += 8 * Self.day
        #expect(code(redeem(&ledger, "L-1", by: "ana", order: "o", amount: 20_000)) == .couponExpired)
        #expect(code(issue(&ledger, "L-2", to: "bo", coupon: "later")) == .couponIssueEnded)
        #expect(code(redeem(&ledger, "nope", by: "ana", order: "o", amount: 20_000)) == .couponNotFound)

        #expect(issue(&ledger, "F-1", to: "ana").error == nil)
        #expect(code(issue(&ledger, "F-2", to: "ana")) == .couponUserLimitReached)
        #expect(issue(&ledger, "F-1", to: "ana").replayed)
        #expect(code(issue(&ledger, "F-1", to: "bo")) == .couponExistsWithDifferentBody)
        #expect(issue(&ledger, "F-3", to: "bo").error == nil)
        let capped = issue(&ledger, "F-4", to: "cy")
        #expect(code(capped) == .couponTransferRefused)
        #expect(capped.error?.description.contains("BUDGET_EXCEEDED") == true)
        // Clients cannot write the ledger's own coupon transfer ids.
        let forged = ledger.transfer(
            transfer(
                "coupon:F-1:redeem:1", "user:ana:coupon.full100minus20", "redemption:coupon.full100minus20", 1,
                kind: .redemption, asset: "coupon.full100minus20"))
        #expect(forged.code == .invalidTransferId)
        ledger.expectInvariants()
    }

    @Test("a user holding two coupons of one kind spends the one presented; the other expires on its own date")
    func presentedCouponIsSpent() throws {
        var ledger = LedgerHarness()
        _ = define(&ledger, Self.fullReduction(validDays: 10))
        _ = issue(&ledger, "SOON", to: "ana")
        ledger.now += 5 * Self.day
        _ = issue(&ledger, "LATE", to: "ana")
        _ = redeem(&ledger, "LATE", by: "ana", order: "o-1", amount: 10_000)
        #expect(ledger.balance("ana", "coupon.full100minus20").available == 1)
        ledger.now += 6 * Self.day
        let expired = ledger.expire()
        #expect(expired.expiredLots == 1, "SOON's own lot expires at its date")
        #expect(ledger.balance("ana", "coupon.full100minus20").available == 0)
        #expect(try ledger.state.coupon(code: "SOON", now: ledger.now).state == .expired)
        #expect(try ledger.state.coupon(code: "LATE", now: ledger.now).state == .redeemed)
        #expect(ledger.state.coupons(user: "ana", usableOnly: true, now: ledger.now).isEmpty)
        #expect(ledger.state.coupons(user: "ana", usableOnly: false, now: ledger.now).map(\.code) == ["LATE", "SOON"])
        ledger.expectInvariants()
        let replayed = try ledger.replayed()
        #expect(replayed.chainHead == ledger.state.chainHead)
    }
}
