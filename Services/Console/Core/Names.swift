public import RetainProto

/// The interface text of the contract's enums.
public enum Names {
    /// Lifecycle stages in the order the Overview shows them.
    public static let stages: [Retain_V1_LifecycleStage] = [.new, .active, .recalled, .churnRisk, .silent, .churned]

    /// The text key of a lifecycle stage.
    public static func key(_ stage: Retain_V1_LifecycleStage) -> TextKey {
        switch stage {
        case .new: .stageNew
        case .active: .stageActive
        case .silent: .stageSilent
        case .churnRisk: .stageChurnRisk
        case .churned: .stageChurned
        case .recalled: .stageRecalled
        default: .noData
        }
    }

    /// The text key of a feedback priority.
    public static func key(_ priority: Retain_V1_FeedbackPriority) -> TextKey {
        switch priority {
        case .urgentImportant: .prioUrgentImportant
        case .important: .prioImportant
        case .urgent: .prioUrgent
        default: .prioRoutine
        }
    }

    /// The text key of a feedback status.
    public static func key(_ status: Retain_V1_FeedbackStatus) -> TextKey {
        switch status {
        case .new: .statusNew
        case .triaged: .statusTriaged
        case .assigned: .statusAssigned
        case .inProgress: .statusInProgress
        case .resolved: .statusResolved
        case .closed: .statusClosed
        case .reopened: .statusReopened
        default: .noData
        }
    }

    /// The text key of a feedback kind.
    public static func key(_ kind: Retain_V1_FeedbackKind) -> TextKey {
        switch kind {
        case .suggestion: .kindSuggestion
        case .complaint: .kindComplaint
        case .bug: .kindBug
        case .question: .kindQuestion
        default: .noData
        }
    }

    /// Outcomes an agent picks from on the desk.
    public static let outcomes: [(Retain_V1_FeedbackOutcome, TextKey)] = [
        (.fixed, .outcomeFixed), (.answered, .outcomeAnswered), (.accepted, .outcomeAccepted), (.declined, .outcomeDeclined),
    ]

    /// A contact channel as the contract names it, in lower case: `email`, `in_app`.
    public static func channel(_ channel: Retain_V1_ContactChannel) -> String {
        channel.unprefixedName?.lowercased() ?? "channel \(channel.rawValue)"
    }

    /// A ledger transfer kind as the contract names it, in lower case: `welcome_bonus`.
    public static func transferKind(_ kind: Retain_V1_TransferKind) -> String {
        kind.unprefixedName?.lowercased() ?? "kind \(kind.rawValue)"
    }
}
