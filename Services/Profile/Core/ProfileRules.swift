public import Foundation
public import RetainRuleSets

/// Profile's live rule set ("profile"): the lifecycle and churn thresholds, as the `lifecycle`
/// object of the configuration file, checked by the same rules with the same messages. The
/// activity time zone and the activation definition stay settings fixed by the file at start,
/// and the contact policy changes through SetContactPolicy (docs/PROFILE.md, docs/CONFIG.md).
///
/// ```json
/// {"lifecycle": {"new_days": 7, "silent_days": 7, "churned_days": 30, ...}}
/// ```
public struct ProfileRules: RuleSetRules {
    public static var ruleSetName: String { "profile" }

    /// The lifecycle thresholds.
    public let lifecycle: LifecycleRules
    /// Stages and churn warnings by these thresholds.
    public let evaluator: LifecycleEvaluator

    /// Rules with `lifecycle` (validated by the caller, as the configuration file is).
    public init(lifecycle: LifecycleRules) {
        self.lifecycle = lifecycle
        evaluator = LifecycleEvaluator(rules: lifecycle)
    }

    public init(ruleSetDocument: [UInt8]) throws(RuleSetError) {
        let object: [String: Any]
        do {
            guard let parsed = try JSONSerialization.jsonObject(with: Data(ruleSetDocument)) as? [String: Any] else {
                throw RuleSetError.invalidDocument(field: "", problem: "must be a JSON object")
            }
            object = parsed
        } catch let error as RuleSetError {
            throw error
        } catch {
            throw RuleSetError.invalidDocument(field: "", problem: "not valid JSON: \(error.localizedDescription)")
        }
        for key in object.keys.sorted() where key != "lifecycle" {
            throw RuleSetError.invalidDocument(field: key, problem: "unknown key (expected lifecycle)")
        }
        let lifecycleObject = object["lifecycle"] as? [String: Any] ?? [:]
        for key in lifecycleObject.keys.sorted() where !LifecycleRules.fileKeys.contains(key) {
            throw RuleSetError.invalidDocument(field: "lifecycle.\(key)", problem: "unknown key")
        }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let lifecycle: LifecycleRules
        do {
            let data = try JSONSerialization.data(withJSONObject: lifecycleObject)
            lifecycle = try decoder.decode(LifecycleRules.self, from: data)
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context),
            let DecodingError.keyNotFound(_, context), let DecodingError.dataCorrupted(context)
        {
            let path = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\(Self.snakeCase($0.stringValue))" }.joined()
            throw RuleSetError.invalidDocument(field: "lifecycle" + path, problem: context.debugDescription)
        } catch {
            throw RuleSetError.invalidDocument(field: "lifecycle", problem: "\(error)")
        }
        if let problem = lifecycle.problems().first {
            let space = problem.firstIndex(of: " ") ?? problem.endIndex
            throw RuleSetError.invalidDocument(
                field: String(problem[..<space]), problem: String(problem[space...]).trimmingCharacters(in: .whitespaces))
        }
        self.init(lifecycle: lifecycle)
    }

    /// `silentDays` as the file spells it: `silent_days`.
    private static func snakeCase(_ key: String) -> String {
        key.reduce(into: "") { result, character in
            result += character.isUppercase ? "_" + character.lowercased() : String(character)
        }
    }

    /// The rules as a canonical rule-set document.
    public var document: [UInt8] {
        struct Document: Encodable { let lifecycle: LifecycleRules }
        return RuleSetDocument.encode(Document(lifecycle: lifecycle))
    }
}
