public import RetainProto

/// Why the feedback domain refuses a request or a log entry, in its own words. The domain knows
/// nothing of status codes: the Service layer alone turns each case into one, in one table
/// (`FeedbackError+Status.swift` in FeedbackService).
public enum FeedbackError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A request field is malformed: a page token or size, an item id, a missing note or answer.
    case invalid(field: String, reason: String)
    /// No item has this id.
    case notFound(what: String, id: String)
    /// A request id (or an item id, in the log) was used before for something else.
    case duplicate(String)
    /// The workflow does not allow `action` from `status`; `allowed` are the statuses it allows.
    case illegalTransition(action: FeedbackAction, status: Retain_V1_FeedbackStatus, allowed: [Retain_V1_FeedbackStatus])
    /// The item's state refuses the change (a compensation set already, or none to pay).
    case conflict(String)
    /// The state holds as many items as it can.
    case full(String)
    /// A log entry this code could not have written: the log is damaged or from another version.
    case corrupt(String)

    public var description: String {
        switch self {
        case .invalid(let field, let reason): "\(field): \(reason)"
        case .notFound(let what, let id): "\(what) '\(id)' not found"
        case .illegalTransition(let action, let status, let allowed):
            "cannot \(action.rawValue) an item that is \(status.shortName) (allowed from \(allowed.map(\.shortName).joined(separator: ", ")))"
        case .duplicate(let message), .conflict(let message), .full(let message), .corrupt(let message): message
        }
    }
}
