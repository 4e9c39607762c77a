/// The transfer-id prefixes the ledger keeps for itself (the shapes of ids, names and keys are
/// `FieldFormat`'s, shared by every service).
public enum LedgerNames {
    /// Transfer-id prefixes only the ledger writes: lot expiry, hold timeouts, referral rewards
    /// and coupons.
    public static let reservedPrefixes = ["expiry:", "timeout:", "referral:", "coupon:"]

    /// Whether a transfer id uses a prefix the ledger keeps for itself.
    public static func isReserved(_ transferID: String) -> Bool {
        guard let first = transferID.utf8.first,
            first == UInt8(ascii: "e") || first == UInt8(ascii: "t") || first == UInt8(ascii: "r") || first == UInt8(ascii: "c")
        else { return false }
        // Only the prefix the first byte can start (each `hasPrefix` compares as Unicode).
        let prefix: String
        switch first {
        case UInt8(ascii: "e"): prefix = reservedPrefixes[0]
        case UInt8(ascii: "t"): prefix = reservedPrefixes[1]
        case UInt8(ascii: "r"): prefix = reservedPrefixes[2]
        default: prefix = reservedPrefixes[3]
        }
        return transferID.hasPrefix(prefix)
    }

    /// The transfer ids of a referral reward for `invitee`: the inviter's and the invitee's.
    public static func referralTransferIDs(invitee: String) -> (inviter: String, invitee: String) {
        ("referral:\(invitee):inviter", "referral:\(invitee):invitee")
    }
}
