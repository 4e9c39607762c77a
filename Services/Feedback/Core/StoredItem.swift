import RetainProto

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
    /// Bits: 1 urgent, 2 important (now); 4 urgent, 8 important (as the priority rules decided
    /// at submission); 16 urgent, 32 important (as the submitter said: a retry must say the same).
    package var flags: UInt8

    /// The submitter's urgent flag in ``flags``.
    package static let submitterUrgent: UInt8 = 16
    /// The submitter's important flag in ``flags``.
    package static let submitterImportant: UInt8 = 32

    /// Whether the item still needs work (not RESOLVED or CLOSED).
    package var isOpen: Bool { Self.isOpen(status: status) }

    /// Whether an item in `status` still needs work.
    package static func isOpen(status: UInt8) -> Bool {
        status != UInt8(Retain_V1_FeedbackStatus.resolved.rawValue) && status != UInt8(Retain_V1_FeedbackStatus.closed.rawValue)
    }

    /// Whether the item is overdue at `nowMs`: open and past its due time.
    package func isOverdue(at nowMs: Int64) -> Bool { isOpen && nowMs > dueAtMs }
}
