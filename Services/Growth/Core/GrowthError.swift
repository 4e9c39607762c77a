public import RetainMoves

/// Why the growth domain refuses a request or a log entry, in its own words. The domain knows
/// nothing of status codes: the Service layer alone turns each case into one, in one table
/// (`GrowthError+Status.swift` in GrowthService).
public enum GrowthError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A request field does not fit the rules: a period key of another form, a day too old.
    case invalid(field: String, reason: String)
    /// No task has this id.
    case notFound(what: String, id: String)
    /// The task's period has not started yet.
    case notStarted(String)
    /// An idempotency key was used before with another body; `field` names the request field.
    case keyReused(String, field: String? = nil)
    /// The user's state refuses the change: a task not finished, a claim window closed, a
    /// check-in repeated.
    case refused(String)
    /// A log entry this code could not have written (no user, no change, negative growth).
    case malformedEntry(String)
    /// Users move between shards: the user moved (or is moving) to another shard, or a report
    /// asked for a ring version this shard's users do not match (RetainMoves).
    case move(UserMoveError)

    public var description: String {
        switch self {
        case .invalid(let field, let reason): "\(field): \(reason)"
        case .notFound(let what, let id): "\(what) '\(id)' not found"
        case .notStarted(let message), .keyReused(let message, _), .refused(let message), .malformedEntry(let message): message
        case .move(let error): error.description
        }
    }
}
