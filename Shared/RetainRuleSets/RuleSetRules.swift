/// A service's rules, compiled from a rule-set document by the service's own configuration
/// loader (the checks of its configuration file, with the same errors).
public protocol RuleSetRules: Sendable {
    /// The rule set's name, e.g. "growth".
    static var ruleSetName: String { get }

    /// Parses and validates a document (JSON, as the configuration file).
    /// - Throws: ``RuleSetError/invalidDocument(field:problem:)`` naming the first bad entry.
    init(ruleSetDocument: [UInt8]) throws(RuleSetError)
}
