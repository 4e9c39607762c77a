public import RetainProto

/// Why the ledger refuses a call, in its own words. Like TigerBeetle's state machine, a refused
/// transfer carries its result code (`exceeds_credits`, `exists_with_different_body`); the
/// Service layer alone turns each case into a status code, in one table
/// (`LedgerError+Status.swift` in LedgerService).
public enum LedgerError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A request field is malformed: an account id, a page token, a year, a range.
    case invalid(field: String, reason: String)
    /// No account has this id.
    case notFound(what: String, id: String)
    /// The account exists already with another cap or metadata.
    case exists(String)
    /// The account refuses the change (no cap on a user account, a cap below what it issued).
    case refused(String)
    /// The single transfer of the call was refused with `result`.
    case transfer(Retain_V1_TransferResultCode, String)
    /// A referral reward was refused as a whole because one of its transfers failed with `result`.
    case rewardRefused(Retain_V1_TransferResultCode, String)
    /// A coupon call was refused with `result` (a threshold not met, an expired coupon, ...).
    case coupon(Retain_V1_CouponResultCode, String)

    public var description: String {
        switch self {
        case .invalid(let field, let reason): "\(field): \(reason)"
        case .notFound(let what, let id): "\(what) '\(id)' not found"
        case .exists(let message), .refused(let message), .transfer(_, let message), .rewardRefused(_, let message),
            .coupon(_, let message):
            message
        }
    }
}
