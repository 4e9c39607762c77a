public import RetainProto

/// An account id taken apart: its kind, owner (user, campaign or system name) and asset.
///
/// ```
/// user:<user_id>:<asset>   budget:<campaign_id>:<asset>   system:<name>:<asset>
/// redemption:<asset>       expiry:<asset>                 penalty:<asset>
/// ```
public struct AccountAddress: Hashable, Sendable {
    /// What the account is for.
    public var kind: Retain_V1_AccountKind
    /// The user, campaign or system name; empty for redemption, expiry and penalty accounts.
    public var owner: String
    /// The asset held.
    public var asset: String

    /// Parses `id`, or nil when it is not a well-formed account id.
    public init?(parsing id: String) {
        let parts = id.utf8.split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false)
        guard let head = parts.first.flatMap({ String($0) }) else { return nil }
        switch (head, parts.count) {
        case ("user", 3), ("budget", 3), ("system", 3):
            guard let owner = String(parts[1]), let asset = String(parts[2]),
                FieldFormat.isEntityID(owner), FieldFormat.isName(asset)
            else { return nil }
            self.kind = head == "user" ? .user : head == "budget" ? .budget : .system
            self.owner = owner
            self.asset = asset
        case ("redemption", 2), ("expiry", 2), ("penalty", 2):
            guard let asset = String(parts[1]), FieldFormat.isName(asset) else { return nil }
            self.kind = head == "redemption" ? .redemption : head == "expiry" ? .expiry : .penalty
            self.owner = ""
            self.asset = asset
        default:
            return nil
        }
    }

    /// An address from its parts.
    public init(kind: Retain_V1_AccountKind, owner: String = "", asset: String) {
        self.kind = kind
        self.owner = owner
        self.asset = asset
    }

    /// The account id.
    public var id: String {
        switch kind {
        case .user: "user:\(owner):\(asset)"
        case .budget: "budget:\(owner):\(asset)"
        case .system: "system:\(owner):\(asset)"
        case .redemption: "redemption:\(asset)"
        case .expiry: "expiry:\(asset)"
        default: "penalty:\(asset)"
        }
    }

    /// True for accounts that open themselves on first use (all but budget and system).
    public var opensItself: Bool { kind != .budget && kind != .system }

    /// True for accounts whose balance may never go below zero.
    public var neverNegative: Bool { opensItself }

    /// The id of `user`'s account in `asset`.
    public static func user(_ user: String, _ asset: String) -> String { "user:\(user):\(asset)" }
}
