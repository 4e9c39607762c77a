extension GrowthRules {
    /// The growth configuration file (JSON, snake_case keys): tiers, growth per action, daily
    /// caps, check-in bonuses and tasks. See `Services/Growth/Config/growth.json`.
    public struct Configuration: Codable, Sendable, Equatable {
        /// A named entitlement of a tier.
        public struct Privilege: Codable, Sendable, Equatable {
            /// Entitlement name (a name: lower-case letters, digits, `_`, `.`, `-`).
            public var name: String
            /// Its value as text, e.g. "true", "5", "2/month".
            public var value: String
            /// Label for display; default empty.
            public var label: String?

            public init(name: String, value: String, label: String? = nil) {
                self.name = name
                self.value = value
                self.label = label
            }
        }

        /// A level tier; tiers are listed lowest first, the first at min_growth 0.
        public struct Tier: Codable, Sendable, Equatable {
            /// Tier name, e.g. "Gold".
            public var name: String
            /// Total growth that reaches the tier; strictly increasing from tier to tier.
            public var minGrowth: Int64
            /// Every entitlement of the tier; default none.
            public var privileges: [Privilege]?
            /// Keep-up (保级): growth to earn within `review.window_days` to keep the tier at
            /// each review; default: the tier is not reviewed. Not for the lowest tier.
            public var keepGrowth: Int64?

            public init(name: String, minGrowth: Int64, privileges: [Privilege]? = nil, keepGrowth: Int64? = nil) {
                self.name = name
                self.minGrowth = minGrowth
                self.privileges = privileges
                self.keepGrowth = keepGrowth
            }
        }

        /// Keep-up reviews (docs/GROWTH.md#keep-up-and-downgrade): a user in a tier with
        /// `keep_growth` is reviewed one window after reaching the tier (or after the last
        /// review), and kept when the growth earned within that window reaches `keep_growth`,
        /// else moved down one tier.
        public struct Review: Codable, Sendable, Equatable {
            /// The window and the time between reviews, in days: 1 to 365.
            public var windowDays: UInt32

            public init(windowDays: UInt32) { self.windowDays = windowDays }
        }

        /// Growth for one action: `growth + growth_per_unit * (value / unit_value)`.
        public struct ActionRule: Codable, Sendable, Equatable {
            /// The action's name, e.g. "purchase".
            public var action: String
            /// Fixed growth per award; default 0.
            public var growth: Int64?
            /// Growth per whole `unit_value` of the request's value; default 0.
            public var growthPerUnit: Int64?
            /// The value that earns `growth_per_unit` (e.g. 100 cents); default 1.
            public var unitValue: Int64?
            /// Most growth this action gives a user per local day; default unlimited.
            public var dailyCap: Int64?

            public init(
                action: String, growth: Int64? = nil, growthPerUnit: Int64? = nil, unitValue: Int64? = nil,
                dailyCap: Int64? = nil
            ) {
                self.action = action
                self.growth = growth
                self.growthPerUnit = growthPerUnit
                self.unitValue = unitValue
                self.dailyCap = dailyCap
            }
        }

        /// Extra growth for a check-in that reaches a streak length.
        public struct StreakBonus: Codable, Sendable, Equatable {
            /// Streak length in days that earns the bonus.
            public var days: UInt32
            /// The bonus.
            public var growth: Int64
            /// Also at every multiple of `days`; default false.
            public var `repeat`: Bool?

            public init(days: UInt32, growth: Int64, repeat: Bool? = nil) {
                self.days = days
                self.growth = growth
                self.repeat = `repeat`
            }
        }

        /// Daily check-in growth.
        public struct CheckIn: Codable, Sendable, Equatable {
            /// Growth for every first check-in of a local day.
            public var growth: Int64
            /// Bonuses by streak length; default none.
            public var streakBonuses: [StreakBonus]?

            public init(growth: Int64, streakBonuses: [StreakBonus]? = nil) {
                self.growth = growth
                self.streakBonuses = streakBonuses
            }
        }

        /// A task's reward, paid through the ledger.
        public struct Reward: Codable, Sendable, Equatable {
            /// Asset name, e.g. "points" or "coupon.free_shipping".
            public var asset: String
            /// Quantity in minor units, positive.
            public var value: Int64

            public init(asset: String, value: Int64) {
                self.asset = asset
                self.value = value
            }
        }

        /// A task: do `action` `target` times in a period, then claim `reward`.
        public struct Task: Codable, Sendable, Equatable {
            /// Task id (an entity id).
            public var id: String
            /// Display title.
            public var title: String
            /// The action that advances it ("check_in" for check-ins).
            public var action: String
            /// Actions needed, 1 to 10000.
            public var target: UInt32
            /// "once", "daily" or "weekly".
            public var period: String
            /// The reward.
            public var reward: Reward

            public init(id: String, title: String, action: String, target: UInt32, period: String, reward: Reward) {
                self.id = id
                self.title = title
                self.action = action
                self.target = target
                self.period = period
                self.reward = reward
            }
        }

        /// Level tiers, lowest first.
        public var tiers: [Tier]
        /// Growth per action; an action without a rule awards 0.
        public var actions: [ActionRule]
        /// Most award growth per user per local day over all actions; default unlimited.
        public var dailyTotalCap: Int64?
        /// Check-in growth; default none.
        public var checkIn: CheckIn?
        /// Tasks; default none.
        public var tasks: [Task]?
        /// Keep-up reviews; default none (levels never go down).
        public var review: Review?

        public init(
            tiers: [Tier], actions: [ActionRule], dailyTotalCap: Int64? = nil, checkIn: CheckIn? = nil,
            tasks: [Task]? = nil, review: Review? = nil
        ) {
            self.tiers = tiers
            self.actions = actions
            self.dailyTotalCap = dailyTotalCap
            self.checkIn = checkIn
            self.tasks = tasks
            self.review = review
        }
    }
}

extension GrowthRules.Configuration {
    /// The configuration used without `--config`; `Services/Growth/Config/growth.json` holds the
    /// same, as a starting point for a file.
    public static let standard = GrowthRules.Configuration(
        tiers: [
            Tier(
                name: "Bronze", minGrowth: 0,
                privileges: [
                    Privilege(name: "discount_percent", value: "0", label: "Member prices")
                ]),
            Tier(
                name: "Silver", minGrowth: 500,
                privileges: [
                    Privilege(name: "discount_percent", value: "2", label: "2% off every order"),
                    Privilege(name: "birthday_coupon", value: "true", label: "A coupon on your birthday"),
                ]),
            Tier(
                name: "Gold", minGrowth: 2_000,
                privileges: [
                    Privilege(name: "discount_percent", value: "5", label: "5% off every order"),
                    Privilege(name: "birthday_coupon", value: "true", label: "A coupon on your birthday"),
                    Privilege(name: "free_shipping", value: "2/month", label: "Free shipping twice a month"),
                    Privilege(name: "points_multiplier", value: "1.2", label: "1.2x points on task rewards"),
                ]),
            Tier(
                name: "Platinum", minGrowth: 10_000,
                privileges: [
                    Privilege(name: "discount_percent", value: "8", label: "8% off every order"),
                    Privilege(name: "birthday_coupon", value: "true", label: "A coupon on your birthday"),
                    Privilege(name: "free_shipping", value: "unlimited", label: "Free shipping on every order"),
                    Privilege(name: "priority_support", value: "true", label: "Priority support"),
                    Privilege(name: "points_multiplier", value: "1.5", label: "1.5x points on task rewards"),
                ]),
            Tier(
                name: "Diamond", minGrowth: 50_000,
                privileges: [
                    Privilege(name: "discount_percent", value: "12", label: "12% off every order"),
                    Privilege(name: "birthday_coupon", value: "true", label: "A coupon on your birthday"),
                    Privilege(name: "free_shipping", value: "unlimited", label: "Free shipping on every order"),
                    Privilege(name: "priority_support", value: "true", label: "Priority support"),
                    Privilege(name: "personal_shopper", value: "true", label: "A personal shopper"),
                    Privilege(name: "points_multiplier", value: "2", label: "Double points on task rewards"),
                ]),
        ],
        actions: [
            ActionRule(action: "sign_up", growth: 100, dailyCap: 100),
            ActionRule(action: "login", growth: 5, dailyCap: 5),
            ActionRule(action: "purchase", growthPerUnit: 1, unitValue: 100, dailyCap: 1_000),
            ActionRule(action: "post", growth: 10, dailyCap: 50),
            ActionRule(action: "share", growth: 5, dailyCap: 20),
            ActionRule(action: "invite", growth: 50, dailyCap: 250),
            ActionRule(action: "review", growth: 20, dailyCap: 60),
        ],
        dailyTotalCap: 1_200,
        checkIn: CheckIn(
            growth: 5,
            streakBonuses: [
                StreakBonus(days: 3, growth: 10),
                StreakBonus(days: 7, growth: 50, repeat: true),
            ]),
        tasks: [
            Task(
                id: "first_purchase", title: "Make your first purchase", action: "purchase", target: 1, period: "once",
                reward: Reward(asset: "points", value: 200)),
            Task(
                id: "daily_check_in", title: "Check in today", action: "check_in", target: 1, period: "daily",
                reward: Reward(asset: "points", value: 5)),
            Task(
                id: "weekly_posts", title: "Post 3 times this week", action: "post", target: 3, period: "weekly",
                reward: Reward(asset: "coupon.free_shipping", value: 1)),
            Task(
                id: "weekly_check_ins", title: "Check in 5 days this week", action: "check_in", target: 5,
                period: "weekly", reward: Reward(asset: "points", value: 50)),
        ])
}
