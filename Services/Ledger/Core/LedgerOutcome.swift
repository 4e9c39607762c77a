public import RetainProto

/// What the last applied entry decided, for the RPC layer to answer with. Replay recomputes it
/// and nobody reads it then; it is not part of the durable state.
public struct LedgerOutcome: Sendable {
    /// Per-transfer results (CreateTransfers, PostPending, VoidPending, Penalize, RewardReferral).
    public var results: [Retain_V1_TransferResult] = []
    /// Why the whole call failed, when it did (for a single transfer, with its result code).
    public var error: LedgerError?
    /// OpenAccount, SetAccountCap: the account.
    public var account: Retain_V1_Account?
    /// OpenAccount: whether it was created.
    public var created = false
    /// PostPending, VoidPending: the hold afterwards.
    public var hold: Retain_V1_TransferRecord?
    /// ExpireLots: lots expired.
    public var expiredLots: UInt64 = 0
    /// ExpireLots: value expired per asset, sorted by asset.
    public var expired: [Retain_V1_Amount] = []
    /// ExpireLots: more lots are due.
    public var more = false
    /// TIME_OUT_HOLDS: holds timed out.
    public var timedOutHolds: Int = 0
    /// Penalize: the amount taken.
    public var penalized: Int64 = 0
    /// RewardReferral: nothing was paid because the inviter reached its daily cap.
    public var inviterCapped = false
    /// DefineCoupon: the definition.
    public var couponDefinition: Retain_V1_CouponDefinition?
    /// IssueCoupon, RedeemCoupon, RefundCoupon: the coupon afterwards.
    public var coupon: Retain_V1_Coupon?
    /// RewardReferral, Penalize, PostPending, VoidPending, coupon calls: answered from an earlier call.
    public var replayed = false

    public init() {}

    /// CreateTransfers's answer: one result per transfer, or with `omitApplied` only the results
    /// of the transfers the entry did not newly apply (failures and replays), plus the count,
    /// first sequence and commit time of those it did (see `CreateTransfersRequest.omit_applied`).
    public func createTransfersResponse(omitApplied: Bool) -> Retain_V1_CreateTransfersResponse {
        var applied: UInt32 = 0
        var firstSequence: UInt64 = 0
        var committedAt: Int64 = 0
        for result in results where result.code == .ok && !result.replayed {
            if applied == 0 {
                firstSequence = result.sequence
                committedAt = result.committedAtMs
            }
            applied += 1
        }
        return Retain_V1_CreateTransfersResponse(
            results: omitApplied ? results.filter { $0.code != .ok || $0.replayed } : results,
            applied: applied, firstSequence: firstSequence, committedAtMs: committedAt)
    }
}
