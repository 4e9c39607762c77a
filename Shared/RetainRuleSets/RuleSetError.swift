/// Why a rule-set request or log entry is refused, in the domain's words; the Service layer
/// (RetainServiceKit's `RuleSetError+Status.swift`) turns each case into a status code.
public enum RuleSetError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The document does not pass the service's checks; `field` is the bad entry's path in the
    /// document (e.g. `tiers[1].min_growth`), empty for the document as a whole.
    case invalidDocument(field: String, problem: String)
    /// A request field is wrong (`reason`, `effective_from_ms`, `rule_set`).
    case invalid(field: String, reason: String)
    /// No version has this number.
    case versionNotFound(ruleSet: String, version: UInt64)
    /// The rule set has no version in force at the time asked.
    case noVersion(ruleSet: String, atMs: Int64)
    /// A log entry this code could not have written (a version out of sequence).
    case malformedEntry(String)

    public var description: String {
        switch self {
        case .invalidDocument(let field, let problem): field.isEmpty ? "document: \(problem)" : "document.\(field): \(problem)"
        case .invalid(let field, let reason): "\(field): \(reason)"
        case .versionNotFound(let ruleSet, let version): "rule set '\(ruleSet)' has no version \(version)"
        case .noVersion(let ruleSet, let atMs): "rule set '\(ruleSet)' has no version in force at \(atMs)"
        case .malformedEntry(let message): message
        }
    }

    /// The request field a refusal names: `document.<path>` for a document's entry.
    public var field: String? {
        switch self {
        case .invalidDocument(let field, _): field.isEmpty ? "document" : "document.\(field)"
        case .invalid(let field, _): field
        case .versionNotFound: "version"
        case .noVersion, .malformedEntry: nil
        }
    }
}
