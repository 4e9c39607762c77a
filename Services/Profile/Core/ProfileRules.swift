public import Foundation
public import RetainRuleSets

/// Profile's live rule set ("profile"): the lifecycle and churn thresholds, as the `lifecycle`
/// object of the configuration file, checked by the same rules with the same messages, and the
/// experiments' definitions (`experiments`, ``ExperimentDefinition``). The
/// activity time zone and the activation definition stay settings fixed by the file at start,
/// and the contact policy changes through SetContactPolicy (docs/PROFILE.md, docs/CONFIG.md).
///
/// ```json
/// {"lifecycle": {"new_days": 7, "silent_days": 7, "churned_days": 30, ...},
///  "experiments": {"checkout": {"variants": [{"name": "control", "weight": 1}, ...]}}}
/// ```
public struct ProfileRules: RuleSetRules {
    public static var ruleSetName: String { "profile" }

    /// The lifecycle thresholds.
    public let lifecycle: LifecycleRules
    /// Stages and churn warnings by these thresholds.
    public let evaluator: LifecycleEvaluator
    /// The experiments' definitions by experiment id.
    public let experiments: [String: ExperimentDefinition]

    /// Rules with `lifecycle` and `experiments` (validated by the caller, as the configuration
    /// file is).
    public init(lifecycle: LifecycleRules, experiments: [String: ExperimentDefinition] = [:]) {
        self.lifecycle = lifecycle
        self.experiments = experiments
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
        for key in object.keys.sorted() where key != "lifecycle" && key != "experiments" {
            throw RuleSetError.invalidDocument(field: key, problem: "unknown key (expected lifecycle, experiments)")
        }
        let experiments = try ExperimentDefinition.definitions(from: object["experiments"])
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
        self.init(lifecycle: lifecycle, experiments: experiments)
    }

    /// `silentDays` as the file spells it: `silent_days`.
    private static func snakeCase(_ key: String) -> String {
        key.reduce(into: "") { result, character in
            result += character.isUppercase ? "_" + character.lowercased() : String(character)
        }
    }

    /// The rules as a canonical rule-set document (no `experiments` key when none is defined, so
    /// documents written before experiments were configuration stay byte for byte the same).
    public var document: [UInt8] {
        struct Document: Encodable { let lifecycle: LifecycleRules }
        let lifecycleOnly = RuleSetDocument.encode(Document(lifecycle: lifecycle))
        guard !experiments.isEmpty,
            var object = (try? JSONSerialization.jsonObject(with: Data(lifecycleOnly))) as? [String: Any]
        else { return lifecycleOnly }
        // Experiment ids are data, not field names: built as plain JSON objects so that no key
        // strategy rewrites them.
        object["experiments"] = experiments.mapValues(\.jsonObject)
        let data = (try? JSONSerialization.data(withJSONObject: object)).map(Array.init) ?? lifecycleOnly
        return (try? RuleSetDocument.canonical(data)) ?? data
    }
}
