public import RetainProto

/// A workflow step: each has its own rpc.
public enum FeedbackAction: String, CaseIterable, Sendable {
    case triage, assign, start, resolve, close, reopen
}

/// The status workflow of an item, as a table (see the Feedback service comment):
///
/// ```
///   triage   NEW, TRIAGED, REOPENED                          -> TRIAGED
///   assign   NEW, TRIAGED, ASSIGNED, IN_PROGRESS, REOPENED   -> ASSIGNED
///   start    ASSIGNED                                        -> IN_PROGRESS
///   resolve  NEW, TRIAGED, ASSIGNED, IN_PROGRESS, REOPENED   -> RESOLVED
///   close    any status but CLOSED                           -> CLOSED
///   reopen   RESOLVED, CLOSED                                -> REOPENED
/// ```
public enum FeedbackWorkflow {
    /// The statuses an item must be in for `action`.
    public static func sources(of action: FeedbackAction) -> [Retain_V1_FeedbackStatus] {
        switch action {
        case .triage: [.new, .triaged, .reopened]
        case .assign: [.new, .triaged, .assigned, .inProgress, .reopened]
        case .start: [.assigned]
        case .resolve: [.new, .triaged, .assigned, .inProgress, .reopened]
        case .close: [.new, .triaged, .assigned, .inProgress, .resolved, .reopened]
        case .reopen: [.resolved, .closed]
        }
    }

    /// The status after `action`.
    public static func target(of action: FeedbackAction) -> Retain_V1_FeedbackStatus {
        switch action {
        case .triage: .triaged
        case .assign: .assigned
        case .start: .inProgress
        case .resolve: .resolved
        case .close: .closed
        case .reopen: .reopened
        }
    }

    /// The status after `action` from `status`; ``FeedbackError/illegalTransition(action:status:allowed:)``
    /// when the table does not allow it.
    public static func transition(
        _ action: FeedbackAction, from status: Retain_V1_FeedbackStatus
    ) throws(FeedbackError)
        -> Retain_V1_FeedbackStatus
    {
        let allowed = sources(of: action)
        guard allowed.contains(status) else {
            throw FeedbackError.illegalTransition(action: action, status: status, allowed: allowed)
        }
        return target(of: action)
    }
}

extension Retain_V1_FeedbackStatus {
    /// The value name without the enum prefix, e.g. `IN_PROGRESS`.
    public var shortName: String {
        unprefixedName ?? "\(rawValue)"
    }
}

extension Retain_V1_FeedbackPriority {
    /// The value name without the enum prefix, e.g. `URGENT_IMPORTANT`.
    public var shortName: String {
        unprefixedName ?? "\(rawValue)"
    }
}
