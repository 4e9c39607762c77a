package import RetainRuleSets
package import RetainWire

/// The one table from the rule-set domain's errors to the wire's status codes.
extension RuleSetError {
    /// The status this error answers with; a document's refusal names its field
    /// (`details["field"]` = `document.<path>`).
    package var status: RPCError {
        switch self {
        case .invalidDocument, .invalid: RPCError(.invalidArgument, description, details: field.map { ["field": $0] } ?? [:])
        case .versionNotFound, .noVersion: RPCError(.notFound, description)
        case .malformedEntry: RPCError(.internal, description)
        }
    }

    /// Runs `body`, turning a rule-set error it throws into its status; other errors pass.
    package static func mapped<R>(_ body: () throws -> R) throws -> R {
        do {
            return try body()
        } catch let error as RuleSetError {
            throw error.status
        }
    }
}
