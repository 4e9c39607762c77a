/// An acquisition channel of the simulated users: how many arrive through it and how often they
/// come back.
public struct DemoChannel: Sendable, Hashable {
    /// The channel's name, as Profile records it (`RegisterUser.channel`).
    public var name: String
    /// Share of the arrivals (the shares of all channels are normalised).
    public var share: Double
    /// Probability that a user is active on the day after registering.
    public var firstDayReturn: Double
    /// How that probability shrinks per day after (multiplied once per day).
    public var dailyDecay: Double
    /// Probability floor: the loyal core that keeps coming back.
    public var floor: Double

    public init(name: String, share: Double, firstDayReturn: Double, dailyDecay: Double, floor: Double) {
        self.name = name
        self.share = share
        self.firstDayReturn = firstDayReturn
        self.dailyDecay = dailyDecay
        self.floor = floor
    }

    /// The channel of invited friends: every referred user arrives through it.
    public static let referralName = "referral"

    /// The default channels: organic search, paid ads, social, an app-store feature, and friends
    /// invited by users (who arrive only through an invitation, see ``DemoScenario``).
    public static let standard: [DemoChannel] = [
        DemoChannel(name: "organic", share: 0.30, firstDayReturn: 0.55, dailyDecay: 0.95, floor: 0.18),
        DemoChannel(name: "paid_ads", share: 0.30, firstDayReturn: 0.40, dailyDecay: 0.90, floor: 0.06),
        DemoChannel(name: "social", share: 0.20, firstDayReturn: 0.45, dailyDecay: 0.92, floor: 0.10),
        DemoChannel(name: "app_store", share: 0.10, firstDayReturn: 0.50, dailyDecay: 0.94, floor: 0.12),
        DemoChannel(name: referralName, share: 0.10, firstDayReturn: 0.65, dailyDecay: 0.96, floor: 0.25),
    ]

    /// Probability that a user of this channel is active `days` days after registering (1 on
    /// the registration day itself).
    func activeProbability(daysSinceRegistration days: Int) -> Double {
        guard days > 0 else { return 1 }
        var p = firstDayReturn
        for _ in 1..<days { p *= dailyDecay }
        return max(p, floor)
    }
}
