/// The thresholds that derive lifecycle stages and churn risk from activity (configuration
/// `lifecycle`). Days are local days of the state's activity time zone.
public struct LifecycleRules: Codable, Sendable, Hashable {
    /// A user is NEW for this many days from the registration day. Default 7.
    public var newDays = 7
    /// SILENT after this many days without activity. Default 7.
    public var silentDays = 7
    /// CHURNED after this many days without activity. Default 30.
    public var churnedDays = 30
    /// A churned user who comes back is RECALLED for this many days. Default 14.
    public var recalledDays = 14
    /// The recent window: the last this many days, today included. Default 7.
    public var recentDays = 7
    /// The baseline window: this many days before the recent window. Default 28.
    public var baselineDays = 28
    /// "Well below the baseline": under this fraction of it. Default 0.5.
    public var dropRatio = 0.5
    /// Churn risk is judged only with at least this many events in the baseline. Default 4.
    public var minimumBaselineEvents = 4
    /// A purchase drop is judged only with at least this many baseline purchases. Default 2.
    public var minimumBaselinePurchases = 2
    /// A gap is "long" when it exceeds this many usual gaps between active days. Default 3.
    public var longGapFactor = 3.0
    /// ... and lasts at least this many days. Default 3.
    public var minimumGapDays = 3

    public init() {}

    /// What is wrong with these rules, one message per problem naming the field; empty when valid.
    public func problems(prefix: String = "lifecycle.") -> [String] {
        var problems: [String] = []
        func check(_ ok: Bool, _ field: String, _ message: String) {
            if !ok { problems.append("\(prefix)\(field) \(message)") }
        }
        check(newDays >= 0 && newDays <= 365, "new_days", "must be 0 to 365, not \(newDays)")
        check(silentDays >= 1, "silent_days", "must be at least 1, not \(silentDays)")
        check(churnedDays > silentDays, "churned_days", "must be greater than silent_days (\(silentDays)), not \(churnedDays)")
        check(recalledDays >= 1, "recalled_days", "must be at least 1, not \(recalledDays)")
        check(
            churnedDays + recalledDays < ActivitySummary.windowDays, "churned_days",
            "plus recalled_days must stay under \(ActivitySummary.windowDays) (the days the activity window keeps)")
        check(recentDays >= 1, "recent_days", "must be at least 1, not \(recentDays)")
        check(baselineDays >= 1, "baseline_days", "must be at least 1, not \(baselineDays)")
        check(
            recentDays + baselineDays <= ActivitySummary.ringDays, "baseline_days",
            "plus recent_days must be at most \(ActivitySummary.ringDays) (the days of per-day counts kept)")
        check(dropRatio > 0 && dropRatio < 1, "drop_ratio", "must lie strictly between 0 and 1, not \(dropRatio)")
        check(minimumBaselineEvents >= 1, "minimum_baseline_events", "must be at least 1")
        check(minimumBaselinePurchases >= 1, "minimum_baseline_purchases", "must be at least 1")
        check(longGapFactor > 1, "long_gap_factor", "must be greater than 1, not \(longGapFactor)")
        check(minimumGapDays >= 1, "minimum_gap_days", "must be at least 1")
        return problems
    }

    /// The keys of the `lifecycle` object in the configuration file and the rule set.
    public static let fileKeys: Set<String> = [
        "new_days", "silent_days", "churned_days", "recalled_days", "recent_days", "baseline_days", "drop_ratio",
        "minimum_baseline_events", "minimum_baseline_purchases", "long_gap_factor", "minimum_gap_days",
    ]

    private enum CodingKeys: String, CodingKey {
        case newDays, silentDays, churnedDays, recalledDays, recentDays, baselineDays, dropRatio
        case minimumBaselineEvents, minimumBaselinePurchases, longGapFactor, minimumGapDays
    }

    /// Decodes rules; absent keys keep their defaults.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = LifecycleRules()
        newDays = try container.decodeIfPresent(Int.self, forKey: .newDays) ?? defaults.newDays
        silentDays = try container.decodeIfPresent(Int.self, forKey: .silentDays) ?? defaults.silentDays
        churnedDays = try container.decodeIfPresent(Int.self, forKey: .churnedDays) ?? defaults.churnedDays
        recalledDays = try container.decodeIfPresent(Int.self, forKey: .recalledDays) ?? defaults.recalledDays
        recentDays = try container.decodeIfPresent(Int.self, forKey: .recentDays) ?? defaults.recentDays
        baselineDays = try container.decodeIfPresent(Int.self, forKey: .baselineDays) ?? defaults.baselineDays
        dropRatio = try container.decodeIfPresent(Double.self, forKey: .dropRatio) ?? defaults.dropRatio
        minimumBaselineEvents =
            try container.decodeIfPresent(Int.self, forKey: .minimumBaselineEvents)
            ?? defaults.minimumBaselineEvents
        minimumBaselinePurchases =
            try container.decodeIfPresent(Int.self, forKey: .minimumBaselinePurchases)
            ?? defaults.minimumBaselinePurchases
        longGapFactor = try container.decodeIfPresent(Double.self, forKey: .longGapFactor) ?? defaults.longGapFactor
        minimumGapDays = try container.decodeIfPresent(Int.self, forKey: .minimumGapDays) ?? defaults.minimumGapDays
    }
}
