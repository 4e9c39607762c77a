import RetainMoves
public import Foundation
public import RetainProto

/// The growth configuration, validated and compiled for fast lookups: tiers as the wire shows
/// them, growth per action, caps, check-in bonuses and tasks.
public struct GrowthRules: Sendable {
    /// What the rules were built from.
    public let configuration: Configuration
    /// The tiers, lowest first, as GetLevelTiers answers them.
    public let tiers: [Retain_V1_LevelTier]
    /// Identifies the configuration: a hash of its canonical JSON.
    public let version: String
    /// The tasks in configuration order.
    public let tasks: [TaskRule]

    let actions: [String: ActionRule]
    let dailyTotalCap: Int64?
    let checkInGrowth: Int64
    let streakBonuses: [Configuration.StreakBonus]
    /// Indices into `tasks` by action.
    let tasksByAction: [String: [Int]]
    let tasksByID: [String: Int]

    /// A compiled action rule.
    struct ActionRule: Sendable {
        let growth: Int64
        let growthPerUnit: Int64
        let unitValue: Int64
        let dailyCap: Int64?

        /// Growth for an action with `value`, before caps, at most 2^53.
        func growth(forValue value: Int64) -> Int64 {
            guard growthPerUnit > 0 else { return growth }
            let (scaled, overflow) = (value / unitValue).multipliedReportingOverflow(by: growthPerUnit)
            if overflow { return FieldFormat.maximumAmount }
            return min(FieldFormat.maximumAmount, growth + scaled)
        }
    }

    /// A task from configuration.
    public struct TaskRule: Sendable {
        /// Task id.
        public let id: String
        /// Display title.
        public let title: String
        /// The action that advances it.
        public let action: String
        /// Actions needed.
        public let target: UInt32
        /// How often it repeats.
        public let period: Retain_V1_TaskPeriod
        /// Its reward.
        public let reward: Retain_V1_Amount
    }

    /// Validates `configuration`; throws naming the first bad entry.
    public init(_ configuration: Configuration) throws(ConfigurationError) {
        try Self.validate(configuration)
        self.configuration = configuration
        tiers = configuration.tiers.enumerated().map { index, tier in
            Retain_V1_LevelTier(
                level: UInt32(index + 1), name: tier.name, minGrowth: tier.minGrowth,
                privileges: (tier.privileges ?? []).map {
                    Retain_V1_Privilege(name: $0.name, value: $0.value, label: $0.label ?? "")
                }, keepGrowth: tier.keepGrowth ?? 0, reviewWindowDays: configuration.review?.windowDays ?? 0)
        }
        var actions: [String: ActionRule] = [:]
        for rule in configuration.actions {
            actions[rule.action] = ActionRule(
                growth: rule.growth ?? 0, growthPerUnit: rule.growthPerUnit ?? 0,
                unitValue: rule.unitValue ?? 1, dailyCap: rule.dailyCap)
        }
        self.actions = actions
        dailyTotalCap = configuration.dailyTotalCap
        checkInGrowth = configuration.checkIn?.growth ?? 0
        streakBonuses = configuration.checkIn?.streakBonuses ?? []
        tasks = (configuration.tasks ?? []).map { task in
            TaskRule(
                id: task.id, title: task.title, action: task.action, target: task.target,
                period: Self.period(named: task.period)!,
                reward: Retain_V1_Amount(value: task.reward.value, asset: task.reward.asset))
        }
        var byAction: [String: [Int]] = [:]
        var byID: [String: Int] = [:]
        for (index, task) in tasks.enumerated() {
            byAction[task.action, default: []].append(index)
            byID[task.id] = index
        }
        tasksByAction = byAction
        tasksByID = byID
        version = Self.version(of: configuration)
    }

    /// Decodes and validates a JSON configuration file; throws naming the first bad entry
    /// (unknown keys included, so that a typo is not silently ignored).
    public init(json: Data) throws(ConfigurationError) {
        try Self.checkKeys(json)
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let configuration: Configuration
        do {
            configuration = try decoder.decode(Configuration.self, from: json)
        } catch let error as DecodingError {
            throw Self.describe(error)
        } catch {
            throw ConfigurationError("", "not valid JSON: \(error)")
        }
        try self.init(configuration)
    }

    /// The standard configuration.
    public static let standard = try! GrowthRules(.standard)

    /// The keep-up window in ms, when the rules review tiers.
    public var reviewWindowMs: Int64? { configuration.review.map { Int64($0.windowDays) * 86_400_000 } }

    /// The growth to earn within the review window to keep `level`, or nil when it is not
    /// reviewed.
    public func keepGrowth(level: UInt32) -> Int64? {
        guard configuration.review != nil, level >= 2, Int(level) <= tiers.count else { return nil }
        let keep = tiers[Int(level) - 1].keepGrowth
        return keep > 0 ? keep : nil
    }

    /// The tier index (0-based) for a total.
    func tierIndex(for total: Int64) -> Int {
        var low = 0
        var high = tiers.count
        while high - low > 1 {
            let middle = (low + high) / 2
            if tiers[middle].minGrowth <= total { low = middle } else { high = middle }
        }
        return low
    }

    /// The level (from 1) for a total.
    public func level(for total: Int64) -> UInt32 { UInt32(tierIndex(for: total) + 1) }

    /// The tier of a level, clamped to the configured tiers.
    public func tier(level: UInt32) -> Retain_V1_LevelTier {
        tiers[min(max(Int(level), 1), tiers.count) - 1]
    }

    /// The task with `id`.
    public func task(id: String) -> TaskRule? {
        tasksByID[id].map { tasks[$0] }
    }

    /// The streak bonus for a check-in that makes a streak of `days`.
    func streakBonus(days: UInt32) -> Int64 {
        streakBonuses.reduce(0) { sum, bonus in
            let earned = days == bonus.days || (bonus.repeat == true && days > 0 && days % bonus.days == 0)
            return earned ? sum + bonus.growth : sum
        }
    }

    static func period(named name: String) -> Retain_V1_TaskPeriod? {
        switch name {
        case "once": .once
        case "daily": .daily
        case "weekly": .weekly
        default: nil
        }
    }

    /// FNV-1a of the canonical JSON (sorted keys), in hex.
    private static func version(of configuration: Configuration) -> String {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys]
        let bytes = (try? encoder.encode(configuration)) ?? Data()
        var hash = Fingerprint()
        hash.combine(bytes)
        let hex = String(hash.value, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
