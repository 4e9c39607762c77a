package import RetainProto

/// One change of an item after its submission: a log entry's payload, kept to rebuild the item
/// (and the first answer of a retried request) by folding.
package indirect enum ItemChange: Sendable, Equatable {
    case triaged(Retain_V1_FeedbackTriaged)
    case assigned(Retain_V1_FeedbackAssigned)
    case started(Retain_V1_FeedbackProgressStarted)
    case resolved(Retain_V1_FeedbackResolved)
    case closed(Retain_V1_FeedbackClosed)
    case reopened(Retain_V1_FeedbackReopened)
    case commented(Retain_V1_FeedbackCommented)
    case compensationPaid(Retain_V1_FeedbackCompensationMarked)

    /// The change of a log entry, or nil for a submission or an empty entry.
    package init?(_ entry: Retain_V1_FeedbackLogEntry) {
        if let change = entry.triaged {
            self = .triaged(change)
        } else if let change = entry.assigned {
            self = .assigned(change)
        } else if let change = entry.started {
            self = .started(change)
        } else if let change = entry.resolved {
            self = .resolved(change)
        } else if let change = entry.closed {
            self = .closed(change)
        } else if let change = entry.reopened {
            self = .reopened(change)
        } else if let change = entry.commented {
            self = .commented(change)
        } else if let change = entry.compensationPaid {
            self = .compensationPaid(change)
        } else {
            return nil
        }
    }

    /// The log entry holding this change.
    package var logEntry: Retain_V1_FeedbackLogEntry {
        switch self {
        case .triaged(let change): Retain_V1_FeedbackLogEntry(triaged: change)
        case .assigned(let change): Retain_V1_FeedbackLogEntry(assigned: change)
        case .started(let change): Retain_V1_FeedbackLogEntry(started: change)
        case .resolved(let change): Retain_V1_FeedbackLogEntry(resolved: change)
        case .closed(let change): Retain_V1_FeedbackLogEntry(closed: change)
        case .reopened(let change): Retain_V1_FeedbackLogEntry(reopened: change)
        case .commented(let change): Retain_V1_FeedbackLogEntry(commented: change)
        case .compensationPaid(let change): Retain_V1_FeedbackLogEntry(compensationPaid: change)
        }
    }

    /// The item the change is about.
    package var itemID: String {
        switch self {
        case .triaged(let change): change.request?.itemId ?? ""
        case .assigned(let change): change.request?.itemId ?? ""
        case .started(let change): change.request?.itemId ?? ""
        case .resolved(let change): change.request?.itemId ?? ""
        case .closed(let change): change.request?.itemId ?? ""
        case .reopened(let change): change.request?.itemId ?? ""
        case .commented(let change): change.request?.itemId ?? ""
        case .compensationPaid(let change): change.request?.itemId ?? ""
        }
    }

    /// The client's key of the change (the transfer id for a payment mark).
    package var requestID: String {
        switch self {
        case .triaged(let change): change.request?.requestId ?? ""
        case .assigned(let change): change.request?.requestId ?? ""
        case .started(let change): change.request?.requestId ?? ""
        case .resolved(let change): change.request?.requestId ?? ""
        case .closed(let change): change.request?.requestId ?? ""
        case .reopened(let change): change.request?.requestId ?? ""
        case .commented(let change): change.request?.requestId ?? ""
        case .compensationPaid(let change): change.request?.transferId ?? ""
        }
    }

    /// Server time of the change.
    package var atMs: Int64 {
        switch self {
        case .triaged(let change): change.atMs
        case .assigned(let change): change.atMs
        case .started(let change): change.atMs
        case .resolved(let change): change.atMs
        case .closed(let change): change.atMs
        case .reopened(let change): change.atMs
        case .commented(let change): change.atMs
        case .compensationPaid(let change): change.atMs
        }
    }
}
