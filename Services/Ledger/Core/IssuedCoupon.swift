public import RetainProto

/// One coupon issued to a user under a code: its validity, the lot that holds its unit in the
/// user's account, and its redemption. The ledger's transfers move its unit; this is what the
/// coupon calls decide by.
package struct IssuedCoupon: Sendable, Equatable {
    /// The code the user presents (unique forever).
    package var code: String
    /// The definition.
    package var couponID: String
    /// The owner.
    package var userID: String
    /// When it was issued, Unix ms.
    package var issuedAt: Int64
    /// Valid from, Unix ms.
    package var validFrom: Int64
    /// Valid until (exclusive), Unix ms.
    package var validUntil: Int64
    /// The issue's reason.
    package var reason: String
    /// While redeemed: the order, its amount and the discount, and when; "" otherwise.
    package var orderID = ""
    package var orderAmount: Int64 = 0
    package var discount: Int64 = 0
    package var redeemedAt: Int64 = 0
    /// Times redeemed and refunded.
    package var redemptions: UInt32 = 0
    package var refunds: UInt32 = 0
    /// The order of the latest refund.
    package var refundedOrderID = ""

    /// Whether it is redeemed now.
    package var isRedeemed: Bool { !orderID.isEmpty }

    /// The transfer id of its issue.
    package var issueTransferID: String { "coupon:\(code):issue" }
    /// The transfer id of its redemption number `number` (from 1).
    package func redemptionTransferID(_ number: UInt32) -> String { "coupon:\(code):redeem:\(number)" }
    /// The transfer id of its refund number `number` (from 1).
    package func refundTransferID(_ number: UInt32) -> String { "coupon:\(code):refund:\(number)" }
    /// The transfer whose lot holds its unit while it is not redeemed: the issue, or the latest refund.
    package var lotTransferID: String { refunds == 0 ? issueTransferID : refundTransferID(refunds) }

    /// Its state at `now`.
    package func state(at now: Int64) -> Retain_V1_CouponState {
        if isRedeemed { return .redeemed }
        return validUntil > 0 && now >= validUntil ? .expired : .available
    }

    /// As the wire shows it.
    package func proto(definition: Retain_V1_CouponDefinition?, at now: Int64) -> Retain_V1_Coupon {
        let asset = definition?.faceValue?.asset ?? ""
        return Retain_V1_Coupon(
            code: code, couponId: couponID, userId: userID, state: state(at: now), issuedAtMs: issuedAt, validFromMs: validFrom,
            validUntilMs: validUntil, orderId: orderID,
            orderAmount: isRedeemed ? Retain_V1_Amount(value: orderAmount, asset: asset) : nil,
            discount: isRedeemed ? Retain_V1_Amount(value: discount, asset: asset) : nil, redeemedAtMs: redeemedAt,
            redemptions: redemptions, refunds: refunds, definition: definition)
    }

    /// As a snapshot keeps it.
    package var record: Retain_V1_LedgerCouponRecord {
        Retain_V1_LedgerCouponRecord(
            code: code, couponId: couponID, userId: userID, issuedAtMs: issuedAt, validFromMs: validFrom, validUntilMs: validUntil,
            reason: reason, orderId: orderID, orderAmount: orderAmount, discount: discount, redeemedAtMs: redeemedAt,
            redemptions: redemptions, refunds: refunds, refundedOrderId: refundedOrderID)
    }

    /// From a snapshot's record.
    package init(record: Retain_V1_LedgerCouponRecord) {
        self.init(
            code: record.code, couponID: record.couponId, userID: record.userId, issuedAt: record.issuedAtMs,
            validFrom: record.validFromMs, validUntil: record.validUntilMs, reason: record.reason)
        orderID = record.orderId
        orderAmount = record.orderAmount
        discount = record.discount
        redeemedAt = record.redeemedAtMs
        redemptions = record.redemptions
        refunds = record.refunds
        refundedOrderID = record.refundedOrderId
    }

    package init(
        code: String, couponID: String, userID: String, issuedAt: Int64, validFrom: Int64, validUntil: Int64, reason: String
    ) {
        self.code = code
        self.couponID = couponID
        self.userID = userID
        self.issuedAt = issuedAt
        self.validFrom = validFrom
        self.validUntil = validUntil
        self.reason = reason
    }
}
