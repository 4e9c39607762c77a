/// Why replication could not go on, in its own words.
public enum ReplicationError: Error, CustomStringConvertible, Sendable {
    case corruptHistory(path: String, line: String)
    case io(String, Int32)
    /// The leader no longer holds the records a replica needs (a snapshot replaced them).
    case logGone(after: UInt64)
    /// A message from the other side broke the protocol.
    case protocolViolation(String)

    public var description: String {
        switch self {
        case .corruptHistory(let path, let line): "\(path): not an epoch history line: \(line)"
        case .io(let operation, let code): "\(operation) failed: errno \(code)"
        case .logGone(let after): "the leader's log no longer holds the records after \(after): the replica must be rebuilt from a snapshot"
        case .protocolViolation(let reason): "replication protocol violation: \(reason)"
        }
    }
}
