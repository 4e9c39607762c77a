package import RetainProto

/// The parts of an item that most items do not have: a reference, properties, the reasons of
/// its priority, and changes after the submission.
package struct ItemDetails: Sendable {
    package var reference: Retain_V1_FeedbackReference?
    package var properties: [String: String] = [:]
    /// Why the submission got its priority (FeedbackItem.priority_reasons).
    package var priorityReasons: [String] = []
    package var changes: [ItemChange] = []
}
