public import RetainProto
public import RetainState

/// A service state that keeps a rule-set history: what the shared RuleSets methods (in
/// RetainServiceKit) need to read it and to log a new version through the state's write path.
public protocol RuleSetKeeping: PersistentState {
    /// The rules the history compiles.
    associatedtype Rules: RuleSetRules

    /// The history.
    var ruleSets: RuleSetHistory<Rules> { get }

    /// The log entry that stores `version` (applying it adds the version to ``ruleSets``).
    func ruleSetEntry(_ version: Retain_V1_RuleSetVersion) -> LogEntry
}
