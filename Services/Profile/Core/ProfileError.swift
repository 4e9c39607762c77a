/// Why the profile domain refuses a request or a log entry, in its own words. The domain knows
/// nothing of status codes: the Service layer alone turns each case into one, in one table
/// (`ProfileError+Status.swift` in ProfileService).
public enum ProfileError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A request field does not fit: a page token, an as-of time, too many attributes.
    case invalid(field: String, reason: String)
    /// No user (or experiment) has this id, or the user is deleted.
    case notFound(what: String, id: String)
    /// A user id, request id or contact id was used before for something else.
    case exists(String)
    /// The user's state refuses the change: deleted, too many tags, settings fixed once users exist.
    case refused(String)
    /// An optimistic write lost the race: the version it expected is not the stored one.
    case versionMismatch(String)
    /// A log entry this code could not have written.
    case corrupt(String)

    public var description: String {
        switch self {
        case .invalid(let field, let reason): "\(field): \(reason)"
        case .notFound(let what, let id): "\(what) '\(id)' not found"
        case .exists(let message), .refused(let message), .versionMismatch(let message), .corrupt(let message): message
        }
    }
}
