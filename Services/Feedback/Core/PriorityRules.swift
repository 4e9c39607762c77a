public import RetainProto

/// Priority from urgency x importance, the Eisenhower order: urgent and important first, then
/// important, then urgent, then neither.
public enum PriorityRules {
    /// The priority of an item with these flags.
    public static func priority(urgent: Bool, important: Bool) -> Retain_V1_FeedbackPriority {
        switch (urgent, important) {
        case (true, true): .urgentImportant
        case (false, true): .important
        case (true, false): .urgent
        case (false, false): .routine
        }
    }

    /// The urgent and important flags of `priority` (neither for an unknown one).
    public static func flags(of priority: Retain_V1_FeedbackPriority) -> (urgent: Bool, important: Bool) {
        switch priority {
        case .urgentImportant: (true, true)
        case .important: (false, true)
        case .urgent: (true, false)
        default: (false, false)
        }
    }

    /// The four priorities, the first handled first.
    public static let order: [Retain_V1_FeedbackPriority] = [.urgentImportant, .important, .urgent, .routine]
}
