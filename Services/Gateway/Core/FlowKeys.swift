import Crypto

/// The ids and idempotency keys the flows derive from a client's event id, so that a retry of a
/// flow with the same event id repeats every step with the same keys and nothing applies twice.
///
/// | what                          | id or key                                        |
/// |-------------------------------|--------------------------------------------------|
/// | Onboard's user (when omitted) | `u_` + first 26 base-32 characters of SHA-256(event id) |
/// | Onboard's registration        | request_id `onboard:<event id>`                  |
/// | Onboard's sign-up growth      | idempotency_key `onboard:<event id>`             |
/// | TrackAction's activity/growth | the event id itself                              |
/// | ResolveFeedbackFlow's resolve | request_id = the event id                        |
/// | welcome bonus                 | transfer `welcome:<user id>`                     |
/// | level-up reward               | transfer `level:<user id>:<level>`               |
/// | task reward                   | transfer = the task's claim id                   |
/// | compensation                  | transfer = the item's compensation transfer id   |
/// | campaign return reward        | transfer `campaign:<campaign id>:<user id>`      |
///
/// A derived key longer than the 256-byte limit of client keys becomes its prefix plus the hex
/// SHA-256 of the whole, which is just as stable.
public enum FlowKeys {
    /// Most bytes in a client-chosen key.
    public static let maximumKeyBytes = 256

    /// `prefix` + `key`, shortened with SHA-256 when longer than the key limit.
    public static func derive(_ prefix: String, _ key: String) -> String {
        let joined = prefix + key
        guard joined.utf8.count > maximumKeyBytes else { return joined }
        return prefix + "sha256:" + sha256Hex(key)
    }

    /// The user id Onboard gives a user when the request has none: `u_` and the first 26
    /// base-32 characters (RFC 4648 alphabet, lower case) of SHA-256(event id).
    public static func userID(forEvent eventID: String) -> String {
        "u_" + String(base32(Array(SHA256.hash(data: Array(eventID.utf8)))).prefix(26))
    }

    /// Welcome bonus transfer id.
    public static func welcomeTransfer(user: String) -> String { "welcome:\(user)" }

    /// Level-up reward transfer id, one per level reached.
    public static func levelTransfer(user: String, level: UInt32) -> String { "level:\(user):\(level)" }

    /// A recall campaign's return reward transfer id, one per user and campaign.
    public static func campaignTransfer(campaign: String, user: String) -> String { "campaign:\(campaign):\(user)" }

    /// The SHA-256 (swift-crypto) of `text`'s UTF-8 bytes as lower-case hex: derived ids must be
    /// the same on every gateway and every retry.
    package static func sha256Hex(_ text: String) -> String {
        SHA256.hash(data: Array(text.utf8)).map { byte in
            let digits = Array("0123456789abcdef")
            return String([digits[Int(byte >> 4)], digits[Int(byte & 15)]])
        }.joined()
    }

    /// Lower-case RFC 4648 base-32 without padding.
    static func base32(_ bytes: [UInt8]) -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567")
        var output = ""
        var buffer: UInt32 = 0
        var bits = 0
        for byte in bytes {
            buffer = (buffer << 8) | UInt32(byte)
            bits += 8
            while bits >= 5 {
                output.append(alphabet[Int((buffer >> UInt32(bits - 5)) & 31)])
                bits -= 5
            }
        }
        if bits > 0 { output.append(alphabet[Int((buffer << UInt32(5 - bits)) & 31)]) }
        return output
    }
}
