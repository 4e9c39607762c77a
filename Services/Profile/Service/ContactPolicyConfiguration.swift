public import RetainProto

/// The default contact policy as written in the configuration file (`contact_policy`); in force
/// until SetContactPolicy stores another.
///
/// ```json
/// "contact_policy": {
///   "channels": [{"channel": "sms", "max_per_day": 1, "max_per_week": 3, "cost": 5, "quiet_hours_apply": true}],
///   "max_per_day_total": 3, "max_per_week_total": 10,
///   "default_campaign_window_ms": 86400000,
///   "campaign_windows": [{"campaign": "spring_sale", "window_ms": 604800000}],
///   "quiet_hours": {"start": "22:00", "end": "08:00"},
///   "default_time_zone": "UTC", "cost_asset": "cash.usd"
/// }
/// ```
public struct ContactPolicyConfiguration: Codable, Sendable, Hashable {
    /// One channel's caps.
    public struct Channel: Codable, Sendable, Hashable {
        /// "sms", "push", "email", "in_app" or "call".
        public var channel: String
        /// False disables the channel. Default true.
        public var enabled: Bool?
        /// Touches per local day; 0 or absent: no cap.
        public var maxPerDay: UInt32?
        /// Touches per 7 local days; 0 or absent: no cap.
        public var maxPerWeek: UInt32?
        /// Cost of one touch in minor units of `cost_asset`. Default 0.
        public var cost: Int64?
        /// Whether quiet hours apply. Default false.
        public var quietHoursApply: Bool?

        public init(
            channel: String, enabled: Bool? = nil, maxPerDay: UInt32? = nil, maxPerWeek: UInt32? = nil,
            cost: Int64? = nil, quietHoursApply: Bool? = nil
        ) {
            self.channel = channel
            self.enabled = enabled
            self.maxPerDay = maxPerDay
            self.maxPerWeek = maxPerWeek
            self.cost = cost
            self.quietHoursApply = quietHoursApply
        }
    }

    /// One campaign's own repeat window (a list, not a map: JSON key conversion would rewrite
    /// campaign ids that hold underscores).
    public struct CampaignWindow: Codable, Sendable, Hashable {
        public var campaign: String
        public var windowMs: Int64
    }

    /// Quiet hours as local "HH:MM" times; `end` may be earlier than `start` (across midnight).
    public struct QuietHours: Codable, Sendable, Hashable {
        public var start: String
        public var end: String
    }

    public var channels: [Channel]
    public var maxPerDayTotal: UInt32?
    public var maxPerWeekTotal: UInt32?
    public var defaultCampaignWindowMs: Int64?
    public var campaignWindows: [CampaignWindow]?
    public var quietHours: QuietHours?
    public var defaultTimeZone: String?
    public var costAsset: String?

    /// The built-in default: cheap channels first, a day between touches of one campaign, no
    /// sms, push or call between 22:00 and 08:00.
    public static let standard = ContactPolicyConfiguration(
        channels: [
            Channel(channel: "in_app", maxPerDay: 3, maxPerWeek: 10, cost: 0),
            Channel(channel: "push", maxPerDay: 2, maxPerWeek: 7, cost: 1, quietHoursApply: true),
            Channel(channel: "email", maxPerDay: 1, maxPerWeek: 3, cost: 2),
            Channel(channel: "sms", maxPerDay: 1, maxPerWeek: 2, cost: 5, quietHoursApply: true),
            Channel(channel: "call", maxPerDay: 1, maxPerWeek: 1, cost: 50, quietHoursApply: true),
        ],
        maxPerDayTotal: 4, maxPerWeekTotal: 12, defaultCampaignWindowMs: 86_400_000, campaignWindows: nil,
        quietHours: QuietHours(start: "22:00", end: "08:00"), defaultTimeZone: "UTC", costAsset: "cash.usd")

    public init(
        channels: [Channel], maxPerDayTotal: UInt32? = nil, maxPerWeekTotal: UInt32? = nil,
        defaultCampaignWindowMs: Int64? = nil, campaignWindows: [CampaignWindow]? = nil, quietHours: QuietHours? = nil,
        defaultTimeZone: String? = nil, costAsset: String? = nil
    ) {
        self.channels = channels
        self.maxPerDayTotal = maxPerDayTotal
        self.maxPerWeekTotal = maxPerWeekTotal
        self.defaultCampaignWindowMs = defaultCampaignWindowMs
        self.campaignWindows = campaignWindows
        self.quietHours = quietHours
        self.defaultTimeZone = defaultTimeZone
        self.costAsset = costAsset
    }

    /// The policy message, or a message naming the bad entry.
    public func policy() throws(ConfigurationError) -> Retain_V1_ContactPolicy {
        var policy = Retain_V1_ContactPolicy(
            maxPerDayTotal: maxPerDayTotal ?? 0, maxPerWeekTotal: maxPerWeekTotal ?? 0,
            defaultCampaignWindowMs: defaultCampaignWindowMs ?? 0,
            defaultTimeZone: defaultTimeZone ?? "", costAsset: costAsset ?? "")
        for (position, window) in (campaignWindows ?? []).enumerated() {
            guard policy.campaignWindowMs.updateValue(window.windowMs, forKey: window.campaign) == nil else {
                throw ConfigurationError("contact_policy.campaign_windows[\(position)]: campaign '\(window.campaign)' appears twice")
            }
        }
        for (position, entry) in channels.enumerated() {
            guard
                let channel = Retain_V1_ContactChannel.allCases.first(where: {
                    $0 != .unspecified && $0.protoValueName == "CONTACT_CHANNEL_\(entry.channel.uppercased())"
                })
            else {
                throw ConfigurationError(
                    "contact_policy.channels[\(position)].channel: unknown channel '\(entry.channel)' "
                        + "(sms, push, email, in_app or call)")
            }
            policy.channels.append(
                Retain_V1_ChannelCap(
                    channel: channel, enabled: entry.enabled ?? true, maxPerDay: entry.maxPerDay ?? 0,
                    maxPerWeek: entry.maxPerWeek ?? 0, cost: entry.cost ?? 0, quietHoursApply: entry.quietHoursApply ?? false))
        }
        if let quietHours {
            policy.hasQuietHours = true
            policy.quietStartMinute = try Self.minute(quietHours.start, "contact_policy.quiet_hours.start")
            policy.quietEndMinute = try Self.minute(quietHours.end, "contact_policy.quiet_hours.end")
        }
        return policy
    }

    private static func minute(_ text: String, _ field: String) throws(ConfigurationError) -> UInt32 {
        let parts = text.split(separator: ":")
        guard parts.count == 2, let hour = UInt32(parts[0]), let minute = UInt32(parts[1]), hour < 24, minute < 60 else {
            throw ConfigurationError("\(field): '\(text)' is not a time of day HH:MM")
        }
        return hour * 60 + minute
    }
}
