public import RetainProto

/// What the last applied entry decided, for the RPC layer to answer with. Replay recomputes it
/// and nobody reads it then; it is not part of the durable state.
public struct LedgerOutcome: Sendable {
    /// Per-transfer results (PostPending, VoidPending, Penalize, RewardReferral, coupons). For
    /// CreateTransfers only the transfers it did not newly apply (failures and replays), in
    /// request order; ``applied`` counts the others (``transferResults(_:)`` lists them all).
    public var results: [Retain_V1_TransferResult] = []
    /// CreateTransfers: transfers newly applied, numbered from ``firstSequence`` on in request
    /// order, all committed at ``committedAtMs``.
    public var applied: UInt32 = 0
    /// CreateTransfers: the journal sequence of the first transfer newly applied (0: none).
    public var firstSequence: UInt64 = 0
    /// CreateTransfers: when the transfers newly applied were committed (0: none).
    public var committedAtMs: Int64 = 0
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

    /// CreateTransfers's answer to `transfers`: one result per transfer, or with `omitApplied`
    /// only the results of the transfers the entry did not newly apply (failures and replays),
    /// plus the count, first sequence and commit time of those it did (see
    /// `CreateTransfersRequest.omit_applied`).
    public func createTransfersResponse(omitApplied: Bool, transfers: [Retain_V1_Transfer]) -> Retain_V1_CreateTransfersResponse {
        Retain_V1_CreateTransfersResponse(
            results: omitApplied ? results : transferResults(transfers),
            applied: applied, firstSequence: firstSequence, committedAtMs: committedAtMs)
    }

    /// A CreateTransfers outcome's result for every transfer of `transfers` (the batch it
    /// applied), in request order: the listed ones, and the newly applied ones rebuilt from
    /// their count, first sequence and time.
    public func transferResults(_ transfers: [Retain_V1_Transfer]) -> [Retain_V1_TransferResult] {
        var all: [Retain_V1_TransferResult] = []
        all.reserveCapacity(transfers.count)
        var listed = results.makeIterator()
        var next = listed.next()
        var sequence = firstSequence
        for index in transfers.indices {
            if let result = next, result.index == UInt32(index) {
                all.append(result)
                next = listed.next()
                continue
            }
            all.append(
                Retain_V1_TransferResult(
                    index: UInt32(index), transferId: transfers[index].transferId, code: .ok,
                    sequence: sequence, committedAtMs: committedAtMs))
            sequence += 1
        }
        return all
    }
}
