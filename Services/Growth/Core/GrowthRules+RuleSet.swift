import Foundation
public import RetainRuleSets

/// Growth's configuration as a live rule set ("growth"): a document is checked exactly as the
/// configuration file is, with the same errors naming the entry.
extension GrowthRules: RuleSetRules {
    public static var ruleSetName: String { "growth" }

    public init(ruleSetDocument: [UInt8]) throws(RuleSetError) {
        do {
            try self.init(json: Data(ruleSetDocument))
        } catch {
            throw RuleSetError.invalidDocument(field: error.path, problem: error.problem)
        }
    }

    /// The configuration as a canonical rule-set document.
    public var document: [UInt8] { RuleSetDocument.encode(configuration) }
}
