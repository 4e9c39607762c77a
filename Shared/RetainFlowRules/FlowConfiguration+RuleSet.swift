public import Foundation
public import RetainRuleSets

/// The flows' rewards and budgets as a live rule set ("flows"), kept in the Ledger's state (the
/// one writer that pays them) and read by every gateway (docs/GATEWAY.md, docs/CONFIG.md). A
/// document is checked exactly as the gateway's configuration file is, with the same errors
/// naming the entry.
extension FlowConfiguration: RuleSetRules {
    public static var ruleSetName: String { "flows" }

    public init(ruleSetDocument: [UInt8]) throws(RuleSetError) {
        do {
            self = try Self.parse(Data(ruleSetDocument))
        } catch {
            let message = error.message
            if let colon = message.range(of: ": "), !message[..<colon.lowerBound].contains(" ") {
                throw RuleSetError.invalidDocument(
                    field: String(message[..<colon.lowerBound]), problem: String(message[colon.upperBound...]))
            }
            throw RuleSetError.invalidDocument(field: "", problem: message)
        }
    }

    /// The configuration as a canonical rule-set document.
    public var document: [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let bytes = (try? encoder.encode(self)).map(Array.init) ?? []
        return (try? RuleSetDocument.canonical(bytes)) ?? bytes
    }
}
