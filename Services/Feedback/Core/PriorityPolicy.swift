public import RetainProto

/// How a submission's priority is decided: configured rules on the category, words in the text,
/// the user's tier privileges (such as `priority_support`) and repeat complaints each make an
/// item urgent, important or both; the submitter's own flags are one more input when
/// ``honourSubmitterFlags`` is on. The flags raised combine into the priority by
/// ``PriorityRules`` (urgent and important first, then important, then urgent, then neither),
/// and every input that raised one is kept as a reason the item shows.
public struct PriorityPolicy: Codable, Sendable, Equatable {
    /// One rule: when its condition holds, the item is urgent and/or important.
    public struct Rule: Codable, Sendable, Equatable {
        /// Holds for items of this category.
        public var category: String?
        /// Holds when the text contains one of these (case-insensitive; any script, so Chinese
        /// phrases match as written).
        public var keywords: [String]?
        /// Holds when the user's tier grants this privilege (e.g. `priority_support`).
        public var privilege: String?
        /// Makes the item urgent.
        public var urgent: Bool
        /// Makes the item important.
        public var important: Bool

        public init(
            category: String? = nil, keywords: [String]? = nil, privilege: String? = nil,
            urgent: Bool = false, important: Bool = false
        ) {
            self.category = category
            self.keywords = keywords
            self.privilege = privilege
            self.urgent = urgent
            self.important = important
        }

        enum CodingKeys: String, CodingKey, CaseIterable {
            case category, keywords, privilege, urgent, important
        }

        public init(from decoder: any Decoder) throws {
            try refuseUnknownKeys(decoder, CodingKeys.self)
            let container = try decoder.container(keyedBy: CodingKeys.self)
            category = try container.decodeIfPresent(String.self, forKey: .category)
            keywords = try container.decodeIfPresent([String].self, forKey: .keywords)
            privilege = try container.decodeIfPresent(String.self, forKey: .privilege)
            urgent = try container.decodeIfPresent(Bool.self, forKey: .urgent) ?? false
            important = try container.decodeIfPresent(Bool.self, forKey: .important) ?? false
        }

        /// The condition in words, for reasons.
        var condition: String {
            var parts: [String] = []
            if let category { parts.append("category \(category)") }
            if let privilege { parts.append("privilege \(privilege)") }
            return parts.joined(separator: ", ")
        }
    }

    /// Complaints from a user who complained before.
    public struct RepeatComplaints: Codable, Sendable, Equatable {
        /// Earlier complaints counted over this many days before the new one. Default 30.
        public var withinDays: Int
        /// Holds when the user made at least this many complaints in the window. Default 1.
        public var atLeast: Int
        /// Makes the item urgent.
        public var urgent: Bool
        /// Makes the item important.
        public var important: Bool

        public init(withinDays: Int = 30, atLeast: Int = 1, urgent: Bool = false, important: Bool = true) {
            self.withinDays = withinDays
            self.atLeast = atLeast
            self.urgent = urgent
            self.important = important
        }

        enum CodingKeys: String, CodingKey, CaseIterable {
            case withinDays = "within_days", atLeast = "at_least", urgent, important
        }

        public init(from decoder: any Decoder) throws {
            try refuseUnknownKeys(decoder, CodingKeys.self)
            let container = try decoder.container(keyedBy: CodingKeys.self)
            withinDays = try container.decodeIfPresent(Int.self, forKey: .withinDays) ?? 30
            atLeast = try container.decodeIfPresent(Int.self, forKey: .atLeast) ?? 1
            urgent = try container.decodeIfPresent(Bool.self, forKey: .urgent) ?? false
            important = try container.decodeIfPresent(Bool.self, forKey: .important) ?? true
        }
    }

    /// What the decision looks at.
    public struct Inputs: Sendable {
        /// The item's kind.
        public var kind: Retain_V1_FeedbackKind
        /// Its category (defaulted).
        public var category: String
        /// Its text.
        public var text: String
        /// The submitter's flags.
        public var urgent: Bool
        public var important: Bool
        /// The user's tier privileges.
        public var privileges: Set<String>
        /// The user's complaints in the repeat window before this one.
        public var earlierComplaints: Int

        public init(
            kind: Retain_V1_FeedbackKind, category: String, text: String, urgent: Bool, important: Bool,
            privileges: Set<String> = [], earlierComplaints: Int = 0
        ) {
            self.kind = kind
            self.category = category
            self.text = text
            self.urgent = urgent
            self.important = important
            self.privileges = privileges
            self.earlierComplaints = earlierComplaints
        }
    }

    /// A decided priority and why.
    public struct Decision: Sendable, Equatable {
        public var urgent = false
        public var important = false
        /// Every input that raised a flag, in rule order.
        public var reasons: [String] = []

        /// The priority the flags give.
        public var priority: Retain_V1_FeedbackPriority { PriorityRules.priority(urgent: urgent, important: important) }

        mutating func raise(urgent: Bool, important: Bool, because reason: String) {
            guard urgent || important else { return }
            self.urgent = self.urgent || urgent
            self.important = self.important || important
            let flags = [urgent ? "urgent" : nil, important ? "important" : nil].compactMap { $0 }.joined(separator: ", ")
            reasons.append("\(reason): \(flags)")
        }
    }

    /// True: the submitter's urgent and important flags count as inputs. Default true.
    public var honourSubmitterFlags: Bool
    /// The rules, each applied when its conditions (all that it names) hold.
    public var rules: [Rule]
    /// Repeat complaints; nil counts none.
    public var repeatComplaints: RepeatComplaints?

    public init(honourSubmitterFlags: Bool = true, rules: [Rule] = [], repeatComplaints: RepeatComplaints? = nil) {
        self.honourSubmitterFlags = honourSubmitterFlags
        self.rules = rules
        self.repeatComplaints = repeatComplaints
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case honourSubmitterFlags = "honour_submitter_flags", rules, repeatComplaints = "repeat_complaints"
    }

    public init(from decoder: any Decoder) throws {
        try refuseUnknownKeys(decoder, CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        honourSubmitterFlags = try container.decodeIfPresent(Bool.self, forKey: .honourSubmitterFlags) ?? true
        rules = try container.decodeIfPresent([Rule].self, forKey: .rules) ?? []
        repeatComplaints = try container.decodeIfPresent(RepeatComplaints.self, forKey: .repeatComplaints)
    }

    /// The built-in policy: the submitter's flags; payments and refunds are important; money
    /// taken wrongly or an account taken over is urgent and important (English and Chinese
    /// phrases); `priority_support` makes an item urgent and important; a complaint from a user
    /// who complained in the 30 days before is important.
    public static let standard = PriorityPolicy(
        rules: [
            Rule(category: "payment", important: true),
            Rule(category: "refund", important: true),
            Rule(
                keywords: [
                    "charged twice", "double charged", "fraud", "stolen", "hacked",
                    "重复扣款", "扣了两次", "盗刷", "被盗",
                ], urgent: true, important: true),
            Rule(keywords: ["crash", "cannot log in", "can't log in", "闪退", "无法登录", "登录不了"], urgent: true),
            Rule(privilege: "priority_support", urgent: true, important: true),
        ],
        repeatComplaints: RepeatComplaints(withinDays: 30, atLeast: 1, important: true))

    /// Decides the priority of a submission.
    public func decide(_ inputs: Inputs) -> Decision {
        var decision = Decision()
        if honourSubmitterFlags {
            decision.raise(urgent: inputs.urgent, important: inputs.important, because: "submitter")
        }
        let text = inputs.text.lowercased()
        for rule in rules {
            if let category = rule.category, category != inputs.category { continue }
            if let privilege = rule.privilege, !inputs.privileges.contains(privilege) { continue }
            var reason = rule.condition
            if let keywords = rule.keywords {
                guard let word = keywords.first(where: { !$0.isEmpty && text.contains($0.lowercased()) }) else { continue }
                reason = reason.isEmpty ? "keyword \(FieldFormat.quoted(word))" : "\(reason), keyword \(FieldFormat.quoted(word))"
            }
            decision.raise(urgent: rule.urgent, important: rule.important, because: reason)
        }
        if let repeats = repeatComplaints, inputs.kind == .complaint, inputs.earlierComplaints >= repeats.atLeast {
            decision.raise(
                urgent: repeats.urgent, important: repeats.important,
                because: "repeat complaint (\(inputs.earlierComplaints) in the \(repeats.withinDays) days before)")
        }
        return decision
    }

    /// Checks the policy; the error names the first bad entry under `path`.
    func validate(path: String) throws(ConfigurationError) {
        for (index, rule) in rules.enumerated() {
            let at = "\(path).rules[\(index)]"
            guard rule.category != nil || rule.keywords != nil || rule.privilege != nil else {
                throw ConfigurationError("\(at): a rule needs a condition (category, keywords or privilege)")
            }
            guard rule.urgent || rule.important else {
                throw ConfigurationError("\(at): a rule must make the item urgent, important or both")
            }
            if let category = rule.category, !FieldFormat.isName(category) {
                throw ConfigurationError(
                    "\(at).category: '\(category)' is not a category name (1 to 64 lower-case letters, digits, '_', '.', '-')")
            }
            if let keywords = rule.keywords {
                guard !keywords.isEmpty, (1...100).contains(keywords.count) else {
                    throw ConfigurationError("\(at).keywords: give 1 to 100 keywords")
                }
                for (position, word) in keywords.enumerated() where word.isEmpty || word.utf8.count > 100 {
                    throw ConfigurationError("\(at).keywords[\(position)]: must be 1 to 100 bytes")
                }
            }
            if let privilege = rule.privilege, !FieldFormat.isName(privilege) {
                throw ConfigurationError("\(at).privilege: '\(privilege)' is not a privilege name")
            }
        }
        if let repeats = repeatComplaints {
            guard (1...366).contains(repeats.withinDays) else {
                throw ConfigurationError("\(path).repeat_complaints.within_days: \(repeats.withinDays) must be 1 to 366")
            }
            guard (1...1000).contains(repeats.atLeast) else {
                throw ConfigurationError("\(path).repeat_complaints.at_least: \(repeats.atLeast) must be 1 to 1000")
            }
            guard repeats.urgent || repeats.important else {
                throw ConfigurationError("\(path).repeat_complaints: must make the item urgent, important or both")
            }
        }
    }
}
