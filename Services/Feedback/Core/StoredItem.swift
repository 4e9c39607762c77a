package import RetainProto

/// One item as the state keeps it: the submission (which never changes) and the current values
/// that indexes and filters read, in 96 bytes of plain integers, so reading one costs no
/// reference counting (the texts live in ``FeedbackState/texts``). The full
/// ``Retain_V1_FeedbackItem`` is rebuilt on demand by folding the item's changes over its
/// submission (``FeedbackState/fold(_:upTo:history:asOfMs:)``).
package struct StoredItem: Sendable {
    /// The item id.
    package var key: ItemKey
    /// Submission time.
    package var createdAtMs: Int64
    /// Last change.
    package var updatedAtMs: Int64
    /// Current due time.
    package var dueAtMs: Int64
    /// Due time at submission.
    package var baseDueAtMs: Int64
    /// Hash of the submission's request id, to find retries quickly.
    package var requestHash: UInt64
    /// The user (symbol).
    package var user: UInt32
    /// The channel (symbol).
    package var channel: UInt32
    /// Category at submission (symbol).
    package var baseCategory: UInt32
    /// Team at submission (symbol).
    package var baseTeam: UInt32
    /// Current category (symbol).
    package var category: UInt32
    /// Current team (symbol).
    package var team: UInt32
    /// Current assignee (symbol; 0 when none).
    package var assignee: UInt32
    /// Times reopened.
    package var reopenCount: UInt16
    /// ``Retain_V1_FeedbackKind`` raw value.
    package var kind: UInt8
    /// ``Retain_V1_FeedbackStatus`` raw value.
    package var status: UInt8
    /// ``Retain_V1_FeedbackPriority`` raw value.
    package var priority: UInt8
    /// ``Retain_V1_CompensationState`` raw value.
    package var compensation: UInt8
    /// ``Retain_V1_FeedbackOutcome`` raw value of the latest resolution; 0 when never resolved.
    package var outcome: UInt8
    /// Bits: 1 urgent, 2 important (now); 4 urgent, 8 important (at submission).
    package var flags: UInt8

    /// Whether the item still needs work (not RESOLVED or CLOSED).
    package var isOpen: Bool { Self.isOpen(status: status) }

    /// Whether an item in `status` still needs work.
    package static func isOpen(status: UInt8) -> Bool {
        status != UInt8(Retain_V1_FeedbackStatus.resolved.rawValue) && status != UInt8(Retain_V1_FeedbackStatus.closed.rawValue)
    }

    /// Whether the item is overdue at `nowMs`: open and past its due time.
    package func isOverdue(at nowMs: Int64) -> Bool { isOpen && nowMs > dueAtMs }
}

/// The parts of an item that most items do not have: a reference, properties, and changes after
/// the submission.
package struct ItemDetails: Sendable {
    package var reference: Retain_V1_FeedbackReference?
    package var properties: [String: String] = [:]
    package var changes: [ItemChange] = []
}

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
        if let change = entry.triaged { self = .triaged(change) }
        else if let change = entry.assigned { self = .assigned(change) }
        else if let change = entry.started { self = .started(change) }
        else if let change = entry.resolved { self = .resolved(change) }
        else if let change = entry.closed { self = .closed(change) }
        else if let change = entry.reopened { self = .reopened(change) }
        else if let change = entry.commented { self = .commented(change) }
        else if let change = entry.compensationPaid { self = .compensationPaid(change) }
        else { return nil }
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
