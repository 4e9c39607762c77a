/// Why a shard refused a call or a change because users move between shards
/// (docs/CLUSTER.md). The service layer answers it through one table in RetainServiceKit.
public enum UserMoveError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The user moved to another shard (or is moving): this shard no longer answers for it.
    case moved(userID: String)
    /// A report for a ring version this shard's users do not match (users are moving).
    case ringVersion(asked: UInt64, reason: String)
    /// A change the moves' rules forbid (a copy of a user that moved away, a removal of a user
    /// not fenced).
    case refused(String)
    /// A logged change that cannot be applied as written (a record that does not decode).
    case malformed(String)

    public var description: String {
        switch self {
        case .moved(let userID): "user '\(userID)' moved to another shard: send the call again through the gateway"
        case .ringVersion(let asked, let reason): "ring version \(asked): \(reason): send the call again"
        case .refused(let reason): reason
        case .malformed(let reason): "malformed move entry: \(reason)"
        }
    }
}
