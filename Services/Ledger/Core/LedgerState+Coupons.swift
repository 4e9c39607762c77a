public import RetainProto

/// Coupons as operators run them: definitions (满减 threshold and face value, validity, budget),
/// issues under codes, redemptions against an order amount and refunds. Every move of a coupon
/// is a transfer of one unit of `coupon.<coupon_id>`: issue from the campaign's budget to the
/// user, redemption from the user to `redemption:coupon.<coupon_id>` (debiting the coupon's own
/// lot), refund back with the original validity; a coupon left unused expires with its lot.
extension LedgerState {
    /// Milliseconds in a day.
    static let couponDay: Int64 = 86_400_000

    /// The asset of a coupon definition's units.
    public static func couponAsset(_ couponID: String) -> String { "coupon.\(couponID)" }

    private mutating func refuseCoupon(_ code: Retain_V1_CouponResultCode, _ message: String) {
        outcome.error = .coupon(code, message)
    }

    mutating func applyDefineCoupon(_ request: Retain_V1_DefineCouponRequest, at: Int64) {
        let definition = request.coupon ?? Retain_V1_CouponDefinition()
        if let existing = couponDefinitions[definition.couponId] {
            guard existing == definition else {
                return refuseCoupon(
                    .couponExistsWithDifferentBody, "coupon \(definition.couponId) exists with another definition")
            }
            outcome.couponDefinition = existing
            outcome.created = false
            return
        }
        let asset = Self.couponAsset(definition.couponId)
        let budget = "budget:\(definition.campaignId):\(asset)"
        if accountRef(budget) == nil, let address = AccountAddress(parsing: budget) {
            openAccount(budget, address, capped: definition.maxIssued > 0, cap: Int64(definition.maxIssued), at: at)
        }
        couponDefinitions[definition.couponId] = definition
        outcome.couponDefinition = definition
        outcome.created = true
    }

    mutating func applyIssueCoupon(_ request: Retain_V1_IssueCouponRequest, at: Int64) {
        if let index = couponIndex[request.code] {
            let coupon = coupons[Int(index)]
            guard coupon.couponID == request.couponId, coupon.userID == request.userId, coupon.reason == request.reason,
                let record = recordRef(coupon.issueTransferID)
            else {
                return refuseCoupon(.couponExistsWithDifferentBody, "coupon code \(request.code) was issued with another body")
            }
            outcome.coupon = coupon.proto(definition: couponDefinitions[coupon.couponID], at: at)
            outcome.results = [success(0, record, replayed: true)]
            outcome.replayed = true
            return
        }
        guard let definition = couponDefinitions[request.couponId] else {
            return refuseCoupon(.couponDefinitionNotFound, "coupon definition \(request.couponId) not found")
        }
        guard definition.validUntilMs == 0 || at < definition.validUntilMs else {
            return refuseCoupon(.couponIssueEnded, "coupon \(request.couponId) was valid until \(definition.validUntilMs); no more issues")
        }
        let held = userCoupons[request.userId, default: []].filter { coupons[Int($0)].couponID == request.couponId }.count
        guard definition.perUserLimit == 0 || held < Int(definition.perUserLimit) else {
            return refuseCoupon(
                .couponUserLimitReached,
                "user \(request.userId) was already issued \(held) coupons \(request.couponId) (at most \(definition.perUserLimit))")
        }
        let validFrom = definition.validFromMs == 0 ? at : definition.validFromMs
        var validUntil = definition.validDays > 0 ? at + Int64(definition.validDays) * Self.couponDay : definition.validUntilMs
        if definition.validUntilMs > 0 { validUntil = min(validUntil, definition.validUntilMs) }
        var coupon = IssuedCoupon(
            code: request.code, couponID: request.couponId, userID: request.userId, issuedAt: at, validFrom: validFrom,
            validUntil: validUntil, reason: request.reason)
        let asset = Self.couponAsset(request.couponId)
        let transfer = Retain_V1_Transfer(
            transferId: coupon.issueTransferID, debitAccountId: "budget:\(definition.campaignId):\(asset)",
            creditAccountId: AccountAddress.user(request.userId, asset), amount: 1, asset: asset, kind: .issue,
            expiresAtMs: validUntil, reason: request.reason.isEmpty ? "coupon \(request.code)" : request.reason,
            metadata: ["coupon_code": request.code])
        let results = applyBatch([transfer], at: at, ownIDs: true)
        guard results[0].code == .ok else {
            return refuseCoupon(
                .couponTransferRefused,
                "coupon \(request.code) was not issued: \(results[0].code.protoValueName ?? "\(results[0].code)"): \(results[0].message)")
        }
        let index = Int32(coupons.count)
        coupons.append(coupon)
        couponIndex[coupon.code] = index
        userCoupons[coupon.userID, default: []].append(index)
        outcome.coupon = coupon.proto(definition: definition, at: at)
        outcome.results = results
    }

    mutating func applyRedeemCoupon(_ request: Retain_V1_RedeemCouponRequest, at: Int64) {
        guard let index = couponIndex[request.code] else {
            return refuseCoupon(.couponNotFound, "coupon \(request.code) not found")
        }
        var coupon = coupons[Int(index)]
        let definition = couponDefinitions[coupon.couponID] ?? Retain_V1_CouponDefinition()
        let order = request.orderAmount ?? Retain_V1_Amount()
        guard coupon.userID == request.userId else {
            return refuseCoupon(.couponNotOwner, "coupon \(request.code) belongs to another user")
        }
        if coupon.isRedeemed {
            guard coupon.orderID == request.orderId, coupon.orderAmount == order.value,
                let record = recordRef(coupon.redemptionTransferID(coupon.redemptions))
            else {
                return refuseCoupon(.couponAlreadyRedeemed, "coupon \(request.code) is already redeemed on order \(coupon.orderID)")
            }
            outcome.coupon = coupon.proto(definition: definition, at: at)
            outcome.results = [success(0, record, replayed: true)]
            outcome.replayed = true
            return
        }
        guard at >= coupon.validFrom else {
            return refuseCoupon(.couponNotYetValid, "coupon \(request.code) is valid from \(coupon.validFrom), not yet at \(at)")
        }
        let lot = recordRef(coupon.lotTransferID).map { records[$0].lot } ?? -1
        guard coupon.validUntil == 0 || at < coupon.validUntil, lot >= 0, lots[lot].remaining >= 1 else {
            return refuseCoupon(.couponExpired, "coupon \(request.code) expired at \(coupon.validUntil)")
        }
        let threshold = definition.threshold ?? Retain_V1_Amount()
        let face = definition.faceValue ?? Retain_V1_Amount()
        guard order.asset == face.asset else {
            return refuseCoupon(
                .couponOrderAssetMismatch, "coupon \(request.code) applies to orders in \(face.asset), not \(order.asset)")
        }
        guard order.value >= threshold.value else {
            return refuseCoupon(
                .couponThresholdNotMet,
                "order amount \(order.value) \(order.asset) is below the coupon's threshold of \(threshold.value) "
                    + "(\(threshold.value - order.value) short): coupon \(request.code) gives \(face.value) off orders of "
                    + "\(threshold.value) or more")
        }
        let discount = min(face.value, order.value)
        let asset = Self.couponAsset(coupon.couponID)
        let transfer = Retain_V1_Transfer(
            transferId: coupon.redemptionTransferID(coupon.redemptions + 1),
            debitAccountId: AccountAddress.user(coupon.userID, asset), creditAccountId: "redemption:\(asset)", amount: 1,
            asset: asset, kind: .redemption, reason: "coupon \(coupon.code) on order \(request.orderId)",
            metadata: [
                "coupon_code": coupon.code, "coupon_lot": coupon.lotTransferID, "order_id": request.orderId,
                "order_amount": String(order.value), "discount": String(discount),
            ])
        let results = applyBatch([transfer], at: at, ownIDs: true)
        guard results[0].code == .ok else {
            return refuseCoupon(.couponExpired, "coupon \(request.code) could not be redeemed: \(results[0].message)")
        }
        coupon.orderID = request.orderId
        coupon.orderAmount = order.value
        coupon.discount = discount
        coupon.redeemedAt = at
        coupon.redemptions += 1
        coupons[Int(index)] = coupon
        outcome.coupon = coupon.proto(definition: definition, at: at)
        outcome.results = results
    }

    mutating func applyRefundCoupon(_ request: Retain_V1_RefundCouponRequest, at: Int64) {
        guard let index = couponIndex[request.code] else {
            return refuseCoupon(.couponNotFound, "coupon \(request.code) not found")
        }
        var coupon = coupons[Int(index)]
        let definition = couponDefinitions[coupon.couponID]
        if !coupon.isRedeemed, coupon.refunds > 0, coupon.refundedOrderID == request.orderId,
            let record = recordRef(coupon.refundTransferID(coupon.refunds))
        {
            outcome.coupon = coupon.proto(definition: definition, at: at)
            outcome.results = [success(0, record, replayed: true)]
            outcome.replayed = true
            return
        }
        guard coupon.isRedeemed, coupon.orderID == request.orderId else {
            return refuseCoupon(.couponNotRedeemed, "coupon \(request.code) is not redeemed on order \(request.orderId)")
        }
        guard coupon.validUntil == 0 || at < coupon.validUntil else {
            return refuseCoupon(
                .couponExpired, "coupon \(request.code) expired at \(coupon.validUntil): it is not given back for order \(request.orderId)")
        }
        let asset = Self.couponAsset(coupon.couponID)
        let transfer = Retain_V1_Transfer(
            transferId: coupon.refundTransferID(coupon.refunds + 1), debitAccountId: "redemption:\(asset)",
            creditAccountId: AccountAddress.user(coupon.userID, asset), amount: 1, asset: asset, kind: .refund,
            expiresAtMs: coupon.validUntil,
            reason: request.reason.isEmpty ? "coupon \(coupon.code) back from order \(request.orderId)" : request.reason,
            metadata: ["coupon_code": coupon.code, "order_id": request.orderId])
        let results = applyBatch([transfer], at: at, ownIDs: true)
        guard results[0].code == .ok else {
            return refuseCoupon(.couponTransferRefused, "coupon \(request.code) was not given back: \(results[0].message)")
        }
        coupon.refunds += 1
        coupon.refundedOrderID = request.orderId
        coupon.orderID = ""
        coupon.orderAmount = 0
        coupon.discount = 0
        coupon.redeemedAt = 0
        coupons[Int(index)] = coupon
        outcome.coupon = coupon.proto(definition: definition, at: at)
        outcome.results = results
    }

    /// The lot a coupon redemption debits (the coupon's own, named in its metadata), so that a
    /// user holding several coupons of one definition spends the one presented, not the
    /// soonest-expiring; nil for any other transfer.
    func couponLot(ofRedemption index: Int32) -> Int32? {
        guard records[index].kind == .redemption, records[index].transferId.hasPrefix("coupon:"),
            let lotID = records[index].metadata["coupon_lot"], let lotRecord = recordRef(lotID)
        else { return nil }
        let lot = records[lotRecord].lot
        guard lot >= 0, lots[lot].account == records[index].debit, lots[lot].remaining >= records[index].amount else { return nil }
        return lot
    }

    // MARK: Reads

    /// The coupon with `code`.
    public func coupon(code: String, now: Int64) throws(LedgerError) -> Retain_V1_Coupon {
        guard let index = couponIndex[code] else { throw LedgerError.coupon(.couponNotFound, "coupon \(code) not found") }
        let coupon = coupons[Int(index)]
        return coupon.proto(definition: couponDefinitions[coupon.couponID], at: now)
    }

    /// A user's coupons, newest issue first, at most `limit`; only the usable ones with `usableOnly`.
    public func coupons(user: String, usableOnly: Bool, limit: Int = 1000, now: Int64) -> [Retain_V1_Coupon] {
        var result: [Retain_V1_Coupon] = []
        for index in (userCoupons[user] ?? []).reversed() {
            let coupon = coupons[Int(index)]
            if usableOnly, coupon.state(at: now) != .available || now < coupon.validFrom { continue }
            result.append(coupon.proto(definition: couponDefinitions[coupon.couponID], at: now))
            if result.count == limit { break }
        }
        return result
    }
}
