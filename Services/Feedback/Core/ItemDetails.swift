package import RetainProto

/// The parts of an item that most items do not have: a reference, properties, and changes after
/// the submission.
package struct ItemDetails: Sendable {
    package var reference: Retain_V1_FeedbackReference?
    package var properties: [String: String] = [:]
    package var changes: [ItemChange] = []
}
