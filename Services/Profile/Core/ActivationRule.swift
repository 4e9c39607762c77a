/// What counts as an activated user (configuration `activation`): active on at least
/// ``minActiveDays`` distinct local days among the first ``withinDays`` days after registration,
/// the registration day being day 0. The default, 2 of 7, is a user who came back at least once
/// in their first week.
public struct ActivationRule: Codable, Sendable, Hashable {
    /// Active days needed. Default 2.
    public var minActiveDays = 2
    /// Days after registration, registration day included, in which they count. Default 7.
    public var withinDays = 7

    public init() {}

    /// A rule with these figures.
    public init(minActiveDays: Int, withinDays: Int) {
        self.minActiveDays = minActiveDays
        self.withinDays = withinDays
    }

    /// The rule of stored settings, where 0 means the default.
    package init(minActiveDays: UInt32, withinDays: UInt32) {
        let defaults = ActivationRule()
        self.minActiveDays = minActiveDays == 0 ? defaults.minActiveDays : Int(minActiveDays)
        self.withinDays = withinDays == 0 ? defaults.withinDays : Int(withinDays)
    }

    /// What is wrong with the rule, one message per problem naming the field; empty when valid.
    public func problems(prefix: String = "activation.") -> [String] {
        var problems: [String] = []
        if !(1...365).contains(withinDays) {
            problems.append("\(prefix)within_days must be 1 to 365, not \(withinDays)")
        }
        if !(1...max(1, withinDays)).contains(minActiveDays) {
            problems.append("\(prefix)min_active_days must be 1 to within_days (\(withinDays)), not \(minActiveDays)")
        }
        return problems
    }

    /// Whether a summary's user is activated: the retention bits (one per day after
    /// registration) know every day of the window exactly.
    package func isActivated(_ summary: ActivitySummary) -> Bool {
        summary.activeDaysAfterRegistration(below: withinDays) >= minActiveDays
    }

    /// The user's funnel stage (see ``FunnelCounts/Stage``).
    package func stage(_ summary: ActivitySummary) -> FunnelCounts.Stage {
        (isActivated(summary) ? 1 : 0) | (summary.kindCounts[ActivityKind.purchase] > 0 ? 2 : 0)
    }

    private enum CodingKeys: String, CodingKey {
        case minActiveDays, withinDays
    }

    /// Decodes a rule; absent keys keep their defaults.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = ActivationRule()
        minActiveDays = try container.decodeIfPresent(Int.self, forKey: .minActiveDays) ?? defaults.minActiveDays
        withinDays = try container.decodeIfPresent(Int.self, forKey: .withinDays) ?? defaults.withinDays
    }
}
