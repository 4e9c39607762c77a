public import RetainProto

/// The Feedback service's rules: routing (category -> team, with a default team), the SLA per
/// priority, and how alike two questions must be to share a FAQ entry. Loaded from JSON:
///
/// ```json
/// {
///   "routing": { "default_team": "support",
///                "rules": [ { "category": "payment", "team": "billing" } ] },
///   "sla_minutes": { "urgent_important": 240, "important": 1440, "urgent": 2880, "routine": 7200 },
///   "faq": { "similarity_threshold": 0.7 }
/// }
/// ```
public struct FeedbackConfiguration: Codable, Sendable, Equatable {
    /// Where items go.
    public struct Routing: Codable, Sendable, Equatable {
        /// Team for categories without a rule. Default "support".
        public var defaultTeam: String
        /// One team per category; a category appears at most once.
        public var rules: [Rule]

        public init(defaultTeam: String = "support", rules: [Rule] = []) {
            self.defaultTeam = defaultTeam
            self.rules = rules
        }

        enum CodingKeys: String, CodingKey, CaseIterable {
            case defaultTeam = "default_team"
            case rules
        }

        public init(from decoder: any Decoder) throws {
            try refuseUnknownKeys(decoder, CodingKeys.self)
            let container = try decoder.container(keyedBy: CodingKeys.self)
            defaultTeam = try container.decodeIfPresent(String.self, forKey: .defaultTeam) ?? "support"
            rules = try container.decodeIfPresent([Rule].self, forKey: .rules) ?? []
        }
    }

    /// Sends one category to one team.
    public struct Rule: Codable, Sendable, Equatable {
        /// The category, a name (lower-case letters, digits, `_`, `.`, `-`).
        public var category: String
        /// The team, an entity id.
        public var team: String

        public init(category: String, team: String) {
            self.category = category
            self.team = team
        }

        enum CodingKeys: String, CodingKey, CaseIterable {
            case category, team
        }

        public init(from decoder: any Decoder) throws {
            try refuseUnknownKeys(decoder, CodingKeys.self)
            let container = try decoder.container(keyedBy: CodingKeys.self)
            category = try container.decode(String.self, forKey: .category)
            team = try container.decode(String.self, forKey: .team)
        }
    }

    /// Time from submission (or the last reopening) to resolution, per priority, in minutes.
    public struct SLA: Codable, Sendable, Equatable {
        /// Default 4 hours.
        public var urgentImportant: Int64
        /// Default 1 day.
        public var important: Int64
        /// Default 2 days.
        public var urgent: Int64
        /// Default 5 days.
        public var routine: Int64

        public init(urgentImportant: Int64 = 240, important: Int64 = 1_440, urgent: Int64 = 2_880, routine: Int64 = 7_200) {
            self.urgentImportant = urgentImportant
            self.important = important
            self.urgent = urgent
            self.routine = routine
        }

        enum CodingKeys: String, CodingKey, CaseIterable {
            case urgentImportant = "urgent_important"
            case important, urgent, routine
        }

        public init(from decoder: any Decoder) throws {
            try refuseUnknownKeys(decoder, CodingKeys.self)
            let container = try decoder.container(keyedBy: CodingKeys.self)
            let defaults = SLA()
            urgentImportant = try container.decodeIfPresent(Int64.self, forKey: .urgentImportant) ?? defaults.urgentImportant
            important = try container.decodeIfPresent(Int64.self, forKey: .important) ?? defaults.important
            urgent = try container.decodeIfPresent(Int64.self, forKey: .urgent) ?? defaults.urgent
            routine = try container.decodeIfPresent(Int64.self, forKey: .routine) ?? defaults.routine
        }
    }

    /// How the FAQ groups questions.
    public struct FAQ: Codable, Sendable, Equatable {
        /// Least Jaccard similarity of two questions' word sets (after normalising case,
        /// punctuation and white space) to share an entry, 0.5 to 1. Default 0.7.
        public var similarityThreshold: Double

        public init(similarityThreshold: Double = 0.7) {
            self.similarityThreshold = similarityThreshold
        }

        enum CodingKeys: String, CodingKey, CaseIterable {
            case similarityThreshold = "similarity_threshold"
        }

        public init(from decoder: any Decoder) throws {
            try refuseUnknownKeys(decoder, CodingKeys.self)
            let container = try decoder.container(keyedBy: CodingKeys.self)
            similarityThreshold = try container.decodeIfPresent(Double.self, forKey: .similarityThreshold) ?? 0.7
        }
    }

    /// Routing rules.
    public var routing: Routing
    /// SLA per priority.
    public var slaMinutes: SLA
    /// FAQ grouping.
    public var faq: FAQ
    /// How a submission's priority is decided. Default ``PriorityPolicy/standard``.
    public var priority: PriorityPolicy

    public init(
        routing: Routing = Routing(), slaMinutes: SLA = SLA(), faq: FAQ = FAQ(),
        priority: PriorityPolicy = .standard
    ) {
        self.routing = routing
        self.slaMinutes = slaMinutes
        self.faq = faq
        self.priority = priority
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case routing
        case slaMinutes = "sla_minutes"
        case faq
        case priority
    }

    public init(from decoder: any Decoder) throws {
        try refuseUnknownKeys(decoder, CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        routing = try container.decodeIfPresent(Routing.self, forKey: .routing) ?? Routing()
        slaMinutes = try container.decodeIfPresent(SLA.self, forKey: .slaMinutes) ?? SLA()
        faq = try container.decodeIfPresent(FAQ.self, forKey: .faq) ?? FAQ()
        priority = try container.decodeIfPresent(PriorityPolicy.self, forKey: .priority) ?? .standard
    }

    /// The built-in rules: payment to billing, delivery to logistics, account and login to
    /// accounts, bugs' usual categories to engineering, everything else to support.
    public static let standard = FeedbackConfiguration(
        routing: Routing(
            defaultTeam: "support",
            rules: [
                Rule(category: "payment", team: "billing"),
                Rule(category: "refund", team: "billing"),
                Rule(category: "delivery", team: "logistics"),
                Rule(category: "account", team: "accounts"),
                Rule(category: "login", team: "accounts"),
                Rule(category: "app", team: "engineering"),
                Rule(category: "website", team: "engineering"),
            ]))

    /// The team for `category`.
    public func team(for category: String) -> String {
        routing.rules.first { $0.category == category }?.team ?? routing.defaultTeam
    }

    /// The SLA of `priority` in milliseconds (routine for anything unknown).
    public func slaMs(for priority: Retain_V1_FeedbackPriority) -> Int64 {
        let minutes =
            switch priority {
            case .urgentImportant: slaMinutes.urgentImportant
            case .important: slaMinutes.important
            case .urgent: slaMinutes.urgent
            default: slaMinutes.routine
            }
        return minutes * 60_000
    }

    /// The due time of an item of `priority` whose SLA clock started at `startMs`.
    public func dueAt(startMs: Int64, priority: Retain_V1_FeedbackPriority) -> Int64 {
        startMs + slaMs(for: priority)
    }

    /// Checks every entry; the error names the first bad one.
    public func validate() throws(ConfigurationError) {
        if let problem = FieldFormat.entityIDProblem(routing.defaultTeam) {
            throw ConfigurationError("routing.default_team: \(FieldFormat.quoted(routing.defaultTeam)) \(problem)")
        }
        var seen: Set<String> = []
        for (index, rule) in routing.rules.enumerated() {
            guard FieldFormat.isName(rule.category) else {
                throw ConfigurationError(
                    "routing.rules[\(index)].category: '\(rule.category)' is not a category name (1 to 64 lower-case letters, digits, '_', '.', '-')"
                )
            }
            if let problem = FieldFormat.entityIDProblem(rule.team) {
                throw ConfigurationError("routing.rules[\(index)].team: \(FieldFormat.quoted(rule.team)) \(problem)")
            }
            guard seen.insert(rule.category).inserted else {
                throw ConfigurationError("routing.rules[\(index)].category: '\(rule.category)' has a rule already")
            }
        }
        let limit: Int64 = 366 * 24 * 60
        for (name, minutes) in [
            ("urgent_important", slaMinutes.urgentImportant), ("important", slaMinutes.important),
            ("urgent", slaMinutes.urgent), ("routine", slaMinutes.routine),
        ] {
            guard minutes > 0, minutes <= limit else {
                throw ConfigurationError("sla_minutes.\(name): \(minutes) must be between 1 and \(limit) (a year)")
            }
        }
        guard faq.similarityThreshold >= FaqText.minimumThreshold, faq.similarityThreshold <= 1 else {
            throw ConfigurationError(
                "faq.similarity_threshold: \(faq.similarityThreshold) must be between \(FaqText.minimumThreshold) and 1")
        }
        try priority.validate(path: "priority")
    }
}

/// Refuses keys that `Keys` does not list, so that a typo is not silently ignored.
func refuseUnknownKeys<Keys: CodingKey & CaseIterable>(_ decoder: any Decoder, _: Keys.Type) throws {
    let known = Set(Keys.allCases.map(\.stringValue))
    let container = try decoder.container(keyedBy: AnyKey.self)
    for key in container.allKeys.sorted(by: { $0.stringValue < $1.stringValue }) where !known.contains(key.stringValue) {
        throw DecodingError.dataCorrupted(
            .init(
                codingPath: container.codingPath + [key],
                debugDescription: "unknown key (expected one of: \(known.sorted().joined(separator: ", ")))"))
    }
}

/// Any key of a JSON object.
private struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

/// A configuration that cannot be used; the message names the bad entry.
public struct ConfigurationError: Error, CustomStringConvertible, Equatable {
    public var description: String

    public init(_ description: String) { self.description = description }
}
