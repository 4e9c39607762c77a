public import Foundation
import RetainProto

/// The rewards the flows pay, from the gateway's configuration (never from the caller): welcome
/// bonus and referral per campaign, level-up rewards, which budgets pay tasks and compensation,
/// and how long credited lots last. Loaded from JSON with snake_case keys (spelled out in
/// `CodingKeys`, so that campaign names used as keys stay as written); see
/// `Services/Gateway/Config/flows.json`.
public struct FlowConfiguration: Codable, Sendable, Hashable {
    /// An amount of one asset.
    public struct Reward: Codable, Sendable, Hashable {
        /// Minor units, 1 to 2^53.
        public var value: Int64
        /// Asset name, e.g. "points" or "coupon.free_shipping".
        public var asset: String

        public init(value: Int64, asset: String) {
            self.value = value
            self.asset = asset
        }
    }

    /// A one-off bonus paid from a campaign budget.
    public struct Bonus: Codable, Sendable, Hashable {
        /// What to pay.
        public var reward: Reward
        /// The campaign whose budget pays: `budget:<budget>:<asset>`.
        public var budget: String
        /// Days until the credited lot expires; nil or 0 for never.
        public var expiresAfterDays: Int?

        enum CodingKeys: String, CodingKey {
            case reward, budget
            case expiresAfterDays = "expires_after_days"
        }

        public init(reward: Reward, budget: String, expiresAfterDays: Int? = nil) {
            self.reward = reward
            self.budget = budget
            self.expiresAfterDays = expiresAfterDays
        }
    }

    /// Referral rewards for inviter and invitee.
    public struct Referral: Codable, Sendable, Hashable {
        /// The inviter's reward; nil for none.
        public var inviterReward: Reward?
        /// The invitee's reward; nil for none.
        public var inviteeReward: Reward?
        /// The campaign whose budget pays.
        public var budget: String
        /// Days until the credited lots expire; nil or 0 for never.
        public var expiresAfterDays: Int?
        /// The invitee's action that earns the referral (TrackAction's action, or "check_in"
        /// for CheckInFlow); "sign_up" pays at onboarding. Default "purchase" (the first
        /// purchase pays; later ones find it paid).
        public var qualifyingAction: String?
        /// When set, the referral is earned instead once the invitee was active on at least
        /// this many of the complete days of Profile's recent window (7 by default), checked at
        /// each of the invitee's TrackAction and CheckInFlow calls; 1 to 7.
        public var qualifyingActiveDays: Int?
        /// Most referrals rewarded to one inviter per UTC day (the ledger counts); past it the
        /// referral waits for the invitee's next qualifying action on a later day. Nil or 0: no cap.
        public var inviterDailyCap: Int?
        /// The growth action awarded to the inviter when a referral is paid. Default "invite".
        public var inviterGrowthAction: String?

        enum CodingKeys: String, CodingKey {
            case inviterReward = "inviter_reward", inviteeReward = "invitee_reward", budget
            case expiresAfterDays = "expires_after_days", qualifyingAction = "qualifying_action"
            case qualifyingActiveDays = "qualifying_active_days", inviterDailyCap = "inviter_daily_cap"
            case inviterGrowthAction = "inviter_growth_action"
        }

        public init(
            inviterReward: Reward?, inviteeReward: Reward?, budget: String, expiresAfterDays: Int? = nil,
            qualifyingAction: String? = nil, qualifyingActiveDays: Int? = nil, inviterDailyCap: Int? = nil,
            inviterGrowthAction: String? = nil
        ) {
            self.inviterReward = inviterReward
            self.inviteeReward = inviteeReward
            self.budget = budget
            self.expiresAfterDays = expiresAfterDays
            self.qualifyingAction = qualifyingAction
            self.qualifyingActiveDays = qualifyingActiveDays
            self.inviterDailyCap = inviterDailyCap
            self.inviterGrowthAction = inviterGrowthAction
        }

        /// The action that earns the referral ("purchase" unless configured).
        public var earningAction: String { qualifyingAction ?? "purchase" }

        /// Whether the referral is paid at onboarding (the action "sign_up", no active days).
        public var paysAtSignUp: Bool { qualifyingActiveDays == nil && earningAction == "sign_up" }
    }

    /// Rules of one acquisition campaign; what it leaves out comes from the defaults.
    public struct CampaignRules: Codable, Sendable, Hashable {
        public var welcomeBonus: Bonus?
        public var referral: Referral?

        enum CodingKeys: String, CodingKey {
            case welcomeBonus = "welcome_bonus", referral
        }

        public init(welcomeBonus: Bonus? = nil, referral: Referral? = nil) {
            self.welcomeBonus = welcomeBonus
            self.referral = referral
        }
    }

    /// Level-up rewards.
    public struct LevelRewards: Codable, Sendable, Hashable {
        /// The campaign whose budget pays.
        public var budget: String
        /// Days until the credited lots expire; nil or 0 for never.
        public var expiresAfterDays: Int?
        /// Reward per level reached, keyed by the level number as text ("2", "3", ...).
        public var levels: [String: Reward]

        enum CodingKeys: String, CodingKey {
            case budget, levels
            case expiresAfterDays = "expires_after_days"
        }

        public init(budget: String, expiresAfterDays: Int? = nil, levels: [String: Reward]) {
            self.budget = budget
            self.expiresAfterDays = expiresAfterDays
            self.levels = levels
        }
    }

    /// Which budget pays a kind of reward whose amount comes from elsewhere (tasks, compensation).
    public struct Budget: Codable, Sendable, Hashable {
        /// The campaign whose budget pays.
        public var budget: String
        /// Days until the credited lots expire; nil or 0 for never.
        public var expiresAfterDays: Int?

        enum CodingKeys: String, CodingKey {
            case budget
            case expiresAfterDays = "expires_after_days"
        }

        public init(budget: String, expiresAfterDays: Int? = nil) {
            self.budget = budget
            self.expiresAfterDays = expiresAfterDays
        }
    }

    /// The default welcome bonus; nil for none.
    public var welcomeBonus: Bonus?
    /// The default referral rewards; nil for none.
    public var referral: Referral?
    /// Rules per acquisition campaign.
    public var campaigns: [String: CampaignRules]?
    /// Level-up rewards; nil for none.
    public var levelRewards: LevelRewards?
    /// The budget that pays task rewards (the amounts come from Growth's task configuration).
    public var taskRewards: Budget
    /// The budget that pays feedback compensation (the amounts come from the resolution).
    public var compensation: Budget
    /// Caps for budget accounts the gateway opens on first use, by account id
    /// (`budget:<campaign>:<asset>`); an account not listed is opened uncapped.
    public var budgetCaps: [String: Int64]?
    /// Who the gateway says it is in the records it writes (MarkCompensationPaid's actor).
    public var actor: String?

    enum CodingKeys: String, CodingKey {
        case welcomeBonus = "welcome_bonus", referral, campaigns, levelRewards = "level_rewards"
        case taskRewards = "task_rewards", compensation, budgetCaps = "budget_caps", actor
    }

    public init(
        welcomeBonus: Bonus?, referral: Referral?, campaigns: [String: CampaignRules]? = nil,
        levelRewards: LevelRewards?, taskRewards: Budget, compensation: Budget,
        budgetCaps: [String: Int64]? = nil, actor: String? = nil
    ) {
        self.welcomeBonus = welcomeBonus
        self.referral = referral
        self.campaigns = campaigns
        self.levelRewards = levelRewards
        self.taskRewards = taskRewards
        self.compensation = compensation
        self.budgetCaps = budgetCaps
        self.actor = actor
    }

    /// The defaults the gateway ships with (the same as `Services/Gateway/Config/flows.json`).
    public static let standard = FlowConfiguration(
        welcomeBonus: Bonus(reward: Reward(value: 100, asset: "points"), budget: "welcome", expiresAfterDays: 365),
        referral: Referral(
            inviterReward: Reward(value: 200, asset: "points"), inviteeReward: Reward(value: 100, asset: "points"),
            budget: "referral", expiresAfterDays: 365, qualifyingAction: "purchase", inviterDailyCap: 5,
            inviterGrowthAction: "invite"),
        levelRewards: LevelRewards(
            budget: "levels", expiresAfterDays: 365,
            levels: [
                "2": Reward(value: 50, asset: "points"), "3": Reward(value: 100, asset: "points"),
                "4": Reward(value: 200, asset: "points"), "5": Reward(value: 500, asset: "points"),
            ]),
        taskRewards: Budget(budget: "tasks", expiresAfterDays: 90),
        compensation: Budget(budget: "compensation"),
        actor: "gateway")

    /// The welcome bonus and referral rules for `campaign` (the defaults when it is empty or
    /// not configured, and for what its entry leaves out).
    public func rules(forCampaign campaign: String) -> CampaignRules {
        let specific = campaign.isEmpty ? nil : campaigns?[campaign]
        return CampaignRules(welcomeBonus: specific?.welcomeBonus ?? welcomeBonus, referral: specific?.referral ?? referral)
    }

    /// The reward for reaching `level`, if any.
    public func levelReward(_ level: UInt32) -> Reward? {
        levelRewards?.levels[String(level)]
    }

    /// Who the gateway says it is.
    public var actorName: String { actor ?? "gateway" }

    /// Reads and validates a configuration file.
    public static func load(path: String) throws(FlowConfigurationError) -> FlowConfiguration {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw FlowConfigurationError("cannot read \(path): \(error.localizedDescription)")
        }
        return try parse(data)
    }

    /// Parses and validates a configuration document.
    public static func parse(_ data: Data) throws(FlowConfigurationError) -> FlowConfiguration {
        let decoder = JSONDecoder()
        let configuration: FlowConfiguration
        do {
            configuration = try decoder.decode(FlowConfiguration.self, from: data)
        } catch let DecodingError.keyNotFound(key, context) {
            throw FlowConfigurationError("\(Self.path(context.codingPath + [key])): is required")
        } catch let DecodingError.typeMismatch(_, context) {
            throw FlowConfigurationError("\(Self.path(context.codingPath)): \(context.debugDescription)")
        } catch let DecodingError.valueNotFound(_, context) {
            throw FlowConfigurationError("\(Self.path(context.codingPath)): is required")
        } catch {
            throw FlowConfigurationError("not a valid configuration: \(error)")
        }
        try configuration.validate()
        return configuration
    }

    /// Checks every amount, asset, budget and expiry; the error names the bad entry.
    public func validate() throws(FlowConfigurationError) {
        func reward(_ reward: Reward, _ path: String) throws(FlowConfigurationError) {
            guard reward.value > 0, reward.value <= 1 << 53 else {
                throw FlowConfigurationError("\(path).value: must be 1 to 2^53, not \(reward.value)")
            }
            guard Self.isName(reward.asset) else {
                throw FlowConfigurationError("\(path).asset: '\(reward.asset)' is not an asset name like points")
            }
        }
        func budget(_ budget: String, _ path: String) throws(FlowConfigurationError) {
            if let problem = FieldFormat.entityIDProblem(budget) {
                throw FlowConfigurationError("\(path).budget: \(FieldFormat.quoted(budget)) \(problem)")
            }
        }
        func expiry(_ days: Int?, _ path: String) throws(FlowConfigurationError) {
            if let days, !(0...3650).contains(days) {
                throw FlowConfigurationError("\(path).expires_after_days: must be 0 to 3650, not \(days)")
            }
        }
        func checkBonus(_ bonus: Bonus?, _ path: String) throws(FlowConfigurationError) {
            guard let bonus else { return }
            try reward(bonus.reward, "\(path).reward")
            try budget(bonus.budget, path)
            try expiry(bonus.expiresAfterDays, path)
        }
        func checkReferral(_ referral: Referral?, _ path: String) throws(FlowConfigurationError) {
            guard let referral else { return }
            guard referral.inviterReward != nil || referral.inviteeReward != nil else {
                throw FlowConfigurationError("\(path): needs inviter_reward, invitee_reward or both")
            }
            if let inviter = referral.inviterReward { try reward(inviter, "\(path).inviter_reward") }
            if let invitee = referral.inviteeReward { try reward(invitee, "\(path).invitee_reward") }
            try budget(referral.budget, path)
            try expiry(referral.expiresAfterDays, path)
            if let action = referral.qualifyingAction, !Self.isName(action) {
                throw FlowConfigurationError("\(path).qualifying_action: '\(action)' is not an action name")
            }
            if let days = referral.qualifyingActiveDays, !(1...7).contains(days) {
                throw FlowConfigurationError("\(path).qualifying_active_days: \(days) must be 1 to 7 (Profile's recent window)")
            }
            if let cap = referral.inviterDailyCap, !(0...100_000).contains(cap) {
                throw FlowConfigurationError("\(path).inviter_daily_cap: \(cap) must be 0 to 100000")
            }
            if let action = referral.inviterGrowthAction, !Self.isName(action) || action == "check_in" {
                throw FlowConfigurationError("\(path).inviter_growth_action: '\(action)' is not an action Growth awards")
            }
        }
        try checkBonus(welcomeBonus, "welcome_bonus")
        try checkReferral(referral, "referral")
        for (name, rules) in (campaigns ?? [:]).sorted(by: { $0.key < $1.key }) {
            if let problem = FieldFormat.entityIDProblem(name) { throw FlowConfigurationError("campaigns.\(name): \(problem)") }
            try checkBonus(rules.welcomeBonus, "campaigns.\(name).welcome_bonus")
            try checkReferral(rules.referral, "campaigns.\(name).referral")
        }
        if let levels = levelRewards {
            try budget(levels.budget, "level_rewards")
            try expiry(levels.expiresAfterDays, "level_rewards")
            for (level, value) in levels.levels.sorted(by: { $0.key < $1.key }) {
                guard let number = UInt32(level), number >= 2 else {
                    throw FlowConfigurationError("level_rewards.levels.\(level): the key must be a level number from 2")
                }
                try reward(value, "level_rewards.levels.\(level)")
            }
        }
        try budget(taskRewards.budget, "task_rewards")
        try expiry(taskRewards.expiresAfterDays, "task_rewards")
        try budget(compensation.budget, "compensation")
        try expiry(compensation.expiresAfterDays, "compensation")
        for (account, cap) in (budgetCaps ?? [:]).sorted(by: { $0.key < $1.key }) {
            let parts = account.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 3, parts[0] == "budget", FieldFormat.isEntityID(parts[1]), Self.isName(String(parts[2])) else {
                throw FlowConfigurationError("budget_caps.\(account): is not a budget account id like budget:welcome:points")
            }
            guard cap >= 0 else { throw FlowConfigurationError("budget_caps.\(account): must not be negative") }
        }
    }

    private static func path(_ keys: [any CodingKey]) -> String {
        keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
    }

    static func isName(_ text: String) -> Bool {
        (1...64).contains(text.utf8.count)
            && text.utf8.allSatisfy {
                ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z")) || ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9"))
                    || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-")
            }
    }
}

/// Why a flow configuration was refused; the message names the bad entry.
public struct FlowConfigurationError: Error, Hashable, CustomStringConvertible, Sendable {
    public var message: String

    public init(_ message: String) { self.message = message }

    public var description: String { "flow configuration: \(message)" }
}
