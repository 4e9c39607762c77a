import LedgerCore
import RetainProto
import RetainWire

/// Checks the shape of requests before anything is logged: INVALID_ARGUMENT naming the field.
/// What depends on the ledger's state (balances, existing ids) is decided when the entry applies.
enum LedgerValidation {
    static func entityID(_ value: String, _ field: String) throws {
        try FieldFormat.requireEntityID(value, field: field)
    }

    static func key(_ value: String, _ field: String) throws {
        guard FieldFormat.isClientKey(value) else {
            throw RPCError.invalidArgument(field: field, "must be 1 to 256 printable ASCII bytes without spaces")
        }
    }

    static func asset(_ value: String, _ field: String) throws {
        guard FieldFormat.isName(value) else {
            throw RPCError.invalidArgument(field: field, "must be 1 to 64 lower-case ASCII letters, digits, '_', '.' or '-'")
        }
    }

    static func assets(_ values: [String], _ field: String) throws {
        for (index, value) in values.enumerated() { try asset(value, "\(field)[\(index)]") }
    }

    static func text(_ value: String, _ field: String, max: Int, required: Bool = false) throws {
        if required, value.isEmpty { throw RPCError.invalidArgument(field: field, "is required") }
        guard value.utf8.count <= max else { throw RPCError.invalidArgument(field: field, "must be at most \(max) bytes") }
    }

    static func metadata(_ value: [String: String], _ field: String) throws {
        guard value.count <= 20 else { throw RPCError.invalidArgument(field: field, "must have at most 20 keys") }
        for (key, item) in value {
            guard !key.isEmpty, key.utf8.count <= 64 else {
                throw RPCError.invalidArgument(field: field, "keys must be 1 to 64 bytes")
            }
            guard item.utf8.count <= 256 else {
                throw RPCError.invalidArgument(field: "\(field).\(key)", "must be at most 256 bytes")
            }
        }
    }

    static func amount(_ value: Int64, _ field: String, allowZero: Bool = false) throws {
        guard value <= FieldFormat.maximumAmount, allowZero ? value >= 0 : value > 0 else {
            throw RPCError.invalidArgument(field: field, allowZero ? "must be 0 to 2^53" : "must be 1 to 2^53")
        }
    }

    static func range(_ range: Retain_V1_TimeRange?, _ field: String) throws {
        guard let range else { return }
        guard range.startMs >= 0, range.endMs >= 0 else {
            throw RPCError.invalidArgument(field: field, "times must not be negative")
        }
        if range.startMs != 0, range.endMs != 0, range.endMs <= range.startMs {
            throw RPCError.invalidArgument(field: "\(field).end_ms", "must be greater than start_ms")
        }
    }

    static func createTransfers(_ request: Retain_V1_CreateTransfersRequest) throws {
        guard (1...8000).contains(request.transfers.count) else {
            throw RPCError.invalidArgument(field: "transfers", "must hold 1 to 8000 transfers, not \(request.transfers.count)")
        }
        // Field by field through the buffer's addressor: each element bound by a `for` loop
        // would be a copy (a retain and release of its five strings and its metadata).
        try request.transfers.withUnsafeBufferPointer { transfers in
            for index in transfers.indices {
                if !transfers[index].reason.isEmpty { try text(transfers[index].reason, "transfers[\(index)].reason", max: 1024) }
                if !transfers[index].metadata.isEmpty { try metadata(transfers[index].metadata, "transfers[\(index)].metadata") }
            }
        }
    }

    static func openAccount(_ request: Retain_V1_OpenAccountRequest) throws {
        guard let address = AccountAddress(parsing: request.accountId) else {
            throw RPCError.invalidArgument(field: "account_id", "must be budget:<campaign_id>:<asset> or system:<name>:<asset>")
        }
        guard !address.opensItself else {
            throw RPCError.invalidArgument(field: "account_id", "\(address.kind) accounts open themselves on first use")
        }
        if request.capped { try amount(request.cap, "cap", allowZero: true) }
        try metadata(request.metadata, "metadata")
    }

    static func setAccountCap(_ request: Retain_V1_SetAccountCapRequest) throws {
        guard AccountAddress(parsing: request.accountId) != nil else {
            throw RPCError.invalidArgument(field: "account_id", "is not a valid account id")
        }
        if request.capped { try amount(request.cap, "cap", allowZero: true) }
        try text(request.actor, "actor", max: 256, required: true)
        try text(request.reason, "reason", max: 1024, required: true)
    }

    static func postPending(_ request: Retain_V1_PostPendingRequest) throws {
        try key(request.pendingTransferId, "pending_transfer_id")
        try key(request.transferId, "transfer_id")
        try amount(request.amount, "amount", allowZero: true)
        try text(request.reason, "reason", max: 1024)
    }

    static func voidPending(_ request: Retain_V1_VoidPendingRequest) throws {
        try key(request.pendingTransferId, "pending_transfer_id")
        try key(request.transferId, "transfer_id")
        try text(request.reason, "reason", max: 1024)
    }

    static func expireLots(_ request: Retain_V1_ExpireLotsRequest) throws {
        guard request.asOfMs >= 0 else { throw RPCError.invalidArgument(field: "as_of_ms", "must not be negative") }
        guard request.limit <= 100_000 else { throw RPCError.invalidArgument(field: "limit", "must be at most 100000") }
        try assets(request.assets, "assets")
    }

    static func penalize(_ request: Retain_V1_PenalizeRequest) throws {
        try entityID(request.userId, "user_id")
        try key(request.transferId, "transfer_id")
        guard let value = request.amount else { throw RPCError.invalidArgument(field: "amount", "is required") }
        try amount(value.value, "amount.value")
        try asset(value.asset, "amount.asset")
        try text(request.reason, "reason", max: 1024, required: true)
        try text(request.actor, "actor", max: 256, required: true)
    }

    static func rewardReferral(_ request: Retain_V1_RewardReferralRequest, now: Int64) throws {
        try entityID(request.userId, "user_id")
        try entityID(request.inviterUserId, "inviter_user_id")
        guard request.userId != request.inviterUserId else {
            throw RPCError.invalidArgument(field: "inviter_user_id", "must differ from user_id")
        }
        try entityID(request.campaignId, "campaign_id")
        var any = false
        for (reward, field) in [(request.inviterReward, "inviter_reward"), (request.inviteeReward, "invitee_reward")] {
            guard let reward, reward.value != 0 else { continue }
            try amount(reward.value, "\(field).value")
            try asset(reward.asset, "\(field).asset")
            any = true
        }
        guard any else { throw RPCError.invalidArgument(field: "invitee_reward", "at least one reward must be set") }
        guard request.expiresAtMs == 0 || request.expiresAtMs > now else {
            throw RPCError.invalidArgument(field: "expires_at_ms", "must be 0 or in the future")
        }
    }

    static func balance(_ request: Retain_V1_GetBalanceRequest) throws {
        try entityID(request.userId, "user_id")
        try assets(request.assets, "assets")
        guard request.expiringWithinMs == 0 || (1...366 * 86_400_000).contains(request.expiringWithinMs) else {
            throw RPCError.invalidArgument(field: "expiring_within_ms", "must be 1 ms to 366 days, or 0")
        }
    }

    static func statement(_ request: Retain_V1_GetStatementRequest) throws {
        try entityID(request.userId, "user_id")
        try assets(request.assets, "assets")
        try range(request.range, "range")
        for (index, kind) in request.kinds.enumerated() where !(1...11).contains(kind.rawValue) {
            throw RPCError.invalidArgument(field: "kinds[\(index)]", "is not a transfer kind")
        }
    }

    static func listAccounts(_ request: Retain_V1_ListAccountsRequest) throws {
        if !request.userId.isEmpty { try entityID(request.userId, "user_id") }
        if !request.asset.isEmpty { try asset(request.asset, "asset") }
        guard (0...6).contains(request.kind.rawValue) else {
            throw RPCError.invalidArgument(field: "kind", "is not an account kind")
        }
    }

    static func lookup(_ request: Retain_V1_LookupTransfersRequest) throws {
        guard (1...1000).contains(request.transferIds.count) else {
            throw RPCError.invalidArgument(field: "transfer_ids", "must hold 1 to 1000 ids")
        }
        for (index, id) in request.transferIds.enumerated() { try key(id, "transfer_ids[\(index)]") }
    }

    static func defineCoupon(_ request: Retain_V1_DefineCouponRequest) throws {
        guard let coupon = request.coupon else { throw RPCError.invalidArgument(field: "coupon", "is required") }
        try asset(coupon.couponId, "coupon.coupon_id")
        guard coupon.couponId.utf8.count <= 57 else {
            throw RPCError.invalidArgument(field: "coupon.coupon_id", "must be at most 57 bytes (coupon.<coupon_id> is a name)")
        }
        try text(coupon.title, "coupon.title", max: 256)
        try entityID(coupon.campaignId, "coupon.campaign_id")
        guard let face = coupon.faceValue else { throw RPCError.invalidArgument(field: "coupon.face_value", "is required") }
        try amount(face.value, "coupon.face_value.value")
        try asset(face.asset, "coupon.face_value.asset")
        if let threshold = coupon.threshold {
            try amount(threshold.value, "coupon.threshold.value", allowZero: true)
            guard threshold.asset == face.asset || (threshold.value == 0 && threshold.asset.isEmpty) else {
                throw RPCError.invalidArgument(field: "coupon.threshold.asset", "must be the face value's asset \(face.asset)")
            }
        }
        guard coupon.validFromMs >= 0, coupon.validUntilMs >= 0 else {
            throw RPCError.invalidArgument(field: "coupon.valid_until_ms", "times must not be negative")
        }
        guard coupon.validUntilMs > 0 || coupon.validDays > 0 else {
            throw RPCError.invalidArgument(field: "coupon.valid_until_ms", "valid_until_ms or valid_days is required")
        }
        guard coupon.validUntilMs == 0 || coupon.validUntilMs > coupon.validFromMs else {
            throw RPCError.invalidArgument(field: "coupon.valid_until_ms", "must be after valid_from_ms")
        }
        guard coupon.validDays <= 3660 else {
            throw RPCError.invalidArgument(field: "coupon.valid_days", "must be at most 3660")
        }
        guard coupon.maxIssued <= UInt64(FieldFormat.maximumAmount) else {
            throw RPCError.invalidArgument(field: "coupon.max_issued", "must be at most 2^53")
        }
    }

    static func issueCoupon(_ request: Retain_V1_IssueCouponRequest) throws {
        try asset(request.couponId, "coupon_id")
        try entityID(request.userId, "user_id")
        try entityID(request.code, "code")
        try text(request.reason, "reason", max: 1024)
    }

    static func redeemCoupon(_ request: Retain_V1_RedeemCouponRequest) throws {
        try entityID(request.code, "code")
        try entityID(request.userId, "user_id")
        try entityID(request.orderId, "order_id")
        guard let order = request.orderAmount else { throw RPCError.invalidArgument(field: "order_amount", "is required") }
        try amount(order.value, "order_amount.value")
        try asset(order.asset, "order_amount.asset")
    }

    static func refundCoupon(_ request: Retain_V1_RefundCouponRequest) throws {
        try entityID(request.code, "code")
        try entityID(request.orderId, "order_id")
        try text(request.reason, "reason", max: 1024)
    }
}

extension LedgerValidation {
    static func balances(_ request: Retain_V1_GetBalancesRequest) throws {
        guard (1...1000).contains(request.userIds.count) else {
            throw RPCError.invalidArgument(field: "user_ids", "must hold 1 to 1000 user ids, not \(request.userIds.count)")
        }
        for (position, id) in request.userIds.enumerated() { try entityID(id, "user_ids[\(position)]") }
        try FieldFormat.requireName(request.asset, field: "asset")
        guard request.asOfMs >= 0 else { throw RPCError.invalidArgument(field: "as_of_ms", "must not be negative") }
    }
}
