public import Foundation
public import RetainRuleSets

extension FeedbackConfiguration {
    /// Decodes and validates JSON. Keys not listed keep their defaults.
    public static func decode(_ data: Data) throws(ConfigurationError) -> FeedbackConfiguration {
        let configuration: FeedbackConfiguration
        do {
            configuration = try JSONDecoder().decode(FeedbackConfiguration.self, from: data)
        } catch let error as DecodingError {
            throw ConfigurationError(Self.describe(error))
        } catch {
            throw ConfigurationError("not valid JSON: \(error)")
        }
        try configuration.validate()
        return configuration
    }

    private static func describe(_ error: DecodingError) -> String {
        func path(_ keys: [any CodingKey]) -> String {
            var text = ""
            for key in keys {
                if let index = key.intValue { text += "[\(index)]" } else { text += (text.isEmpty ? "" : ".") + key.stringValue }
            }
            return text.isEmpty ? "(top level)" : text
        }
        switch error {
        case .keyNotFound(let key, let context): return "\(path(context.codingPath + [key])): is missing"
        case .typeMismatch(_, let context): return "\(path(context.codingPath)): \(context.debugDescription)"
        case .valueNotFound(_, let context): return "\(path(context.codingPath)): is null"
        case .dataCorrupted(let context): return "\(path(context.codingPath)): \(context.debugDescription)"
        @unknown default: return "\(error)"
        }
    }
}

/// Feedback's rules as a live rule set ("feedback"): a document is checked exactly as the
/// configuration file is, with the same errors naming the entry.
extension FeedbackConfiguration: RuleSetRules {
    public static var ruleSetName: String { "feedback" }

    public init(ruleSetDocument: [UInt8]) throws(RuleSetError) {
        do {
            self = try Self.decode(Data(ruleSetDocument))
        } catch {
            throw error.ruleSetError
        }
    }

    /// The configuration as a canonical rule-set document.
    public var document: [UInt8] { RuleSetDocument.encode(self) }
}

extension ConfigurationError {
    /// The error as a document's refusal: the entry's path (the text before ": ") as the field.
    var ruleSetError: RuleSetError {
        if let colon = description.range(of: ": "), !description[..<colon.lowerBound].contains(" ") {
            let field = String(description[..<colon.lowerBound])
            return RuleSetError.invalidDocument(
                field: field == "(top level)" ? "" : field, problem: String(description[colon.upperBound...]))
        }
        return RuleSetError.invalidDocument(field: "", problem: description)
    }
}
