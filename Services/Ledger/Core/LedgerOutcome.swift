public import RetainProto

/// What the last applied entry decided, for the RPC layer to answer with. Replay recomputes it
/// and nobody reads it then; it is not part of the durable state.
public struct LedgerOutcome: Sendable {
    /// Per-transfer results (CreateTransfers, PostPending, VoidPending, Penalize, RewardReferral).
    public var results: [Retain_V1_TransferResult] = []
    /// The call's error, when the whole call failed (its code and, for transfers, the result).
    public var error: RPCError?
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
    /// RewardReferral, Penalize, PostPending, VoidPending: answered from an earlier call.
    public var replayed = false

    public init() {}
}

/// A refusal with the transfer result code in details["result"].
extension RPCError {
    static func transfer(_ code: RPCStatusCode, _ result: Retain_V1_TransferResultCode, _ message: String) -> RPCError {
        RPCError(code, message, details: ["result": result.protoValueName ?? "\(result.rawValue)"])
    }
}

/// The gRPC status of a failed transfer result, for calls that move one transfer.
extension Retain_V1_TransferResultCode {
    var statusCode: RPCStatusCode {
        switch self {
        case .pendingNotFound, .accountNotFound: .notFound
        case .existsWithDifferentBody: .alreadyExists
        case .invalidTransferId, .invalidAccountId, .sameAccount, .invalidAmount, .invalidAsset, .invalidKind,
             .invalidTimeout, .invalidExpiry, .linkedChainOpen:
            .invalidArgument
        default: .failedPrecondition
        }
    }
}
