/// The naming rules of common.proto that the ledger checks: entity ids, names (assets) and
/// client-chosen keys (transfer ids), plus the transfer-id prefixes the ledger keeps for itself.
public enum LedgerNames {
    /// Largest amount a transfer may move: 2^53, so no sum of accepted amounts overflows soon.
    public static let maximumAmount: Int64 = 1 << 53

    /// Transfer-id prefixes only the ledger writes: lot expiry, hold timeouts and referral rewards.
    public static let reservedPrefixes = ["expiry:", "timeout:", "referral:"]

    /// An entity id: 1 to 128 bytes of ASCII letters, digits and `.`, `_`, `-`, `@`.
    public static func isEntityID<S: StringProtocol>(_ text: S) -> Bool {
        var count = 0
        for byte in text.utf8 {
            count += 1
            guard count <= 128 else { return false }
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"),
                 UInt8(ascii: "-"), UInt8(ascii: "@"):
                continue
            default:
                return false
            }
        }
        return count > 0
    }

    /// A name (an asset): 1 to 64 bytes of lower-case ASCII letters, digits and `_`, `.`, `-`.
    public static func isName<S: StringProtocol>(_ text: S) -> Bool {
        var count = 0
        for byte in text.utf8 {
            count += 1
            guard count <= 64 else { return false }
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
                continue
            default:
                return false
            }
        }
        return count > 0
    }

    /// A client-chosen key: 1 to 256 bytes of printable ASCII without spaces.
    public static func isKey(_ text: String) -> Bool {
        var count = 0
        for byte in text.utf8 {
            count += 1
            guard count <= 256, byte > 0x20, byte < 0x7F else { return false }
        }
        return count > 0
    }

    /// Whether a transfer id uses a prefix the ledger keeps for itself.
    public static func isReserved(_ transferID: String) -> Bool {
        guard let first = transferID.utf8.first,
              first == UInt8(ascii: "e") || first == UInt8(ascii: "t") || first == UInt8(ascii: "r") else { return false }
        return reservedPrefixes.contains { transferID.hasPrefix($0) }
    }

    /// The transfer ids of a referral reward for `invitee`: the inviter's and the invitee's.
    public static func referralTransferIDs(invitee: String) -> (inviter: String, invitee: String) {
        ("referral:\(invitee):inviter", "referral:\(invitee):invitee")
    }
}
