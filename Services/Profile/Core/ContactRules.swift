import RetainProto

/// Decides whether a campaign may touch one user on one channel at one time, from the contact
/// policy and the user's recorded touches.
///
/// Rules, reported in this order when several block: the channel's daily cap (touches on the
/// user's local day), its weekly cap (the last 7 local days, today included), the same two over
/// all channels, the campaign's repeat window, quiet hours in the user's time zone. The retry
/// time is the earliest instant at which no rule blocks.
package struct ContactRules {
    /// The policy in force.
    let policy: Retain_V1_ContactPolicy
    /// The user's calendar.
    let calendar: ZoneCalendar
    /// The user's touches.
    let records: [Retain_V1_ProfileContactRecord]

    /// Decides `channel` for `campaign` at `at`.
    func decide(channel: Retain_V1_ContactChannel, campaign: String, at: Int64) -> Retain_V1_ChannelDecision {
        let day = calendar.day(of: at)
        var decision = Retain_V1_ChannelDecision(
            channel: channel, sentToday: count(channel, from: day, to: day),
            sentThisWeek: count(channel, from: day - 6, to: day))
        guard let cap = policy.channels.first(where: { $0.channel == channel }), cap.enabled else {
            decision.reason = .channelDisabled
            return decision
        }
        decision.cost = cap.cost
        var blocking = blocks(cap, campaign: campaign, at: at)
        guard let first = blocking.first else {
            decision.allowed = true
            decision.reason = .allowed
            return decision
        }
        decision.reason = first.reason
        var retry = at
        for _ in 0..<16 {
            guard !blocking.isEmpty else { break }
            retry = blocking.map(\.retry).max()!
            blocking = blocks(cap, campaign: campaign, at: retry)
        }
        decision.retryAfterMs = blocking.isEmpty ? retry : 0
        return decision
    }

    /// Recorded touches on `channel` (nil: any) on local days `from` through `to`.
    private func count(_ channel: Retain_V1_ContactChannel?, from: Int32, to: Int32) -> UInt32 {
        var count: UInt32 = 0
        for record in records where record.recorded && (channel == nil || record.channel == channel) {
            let day = calendar.day(of: record.sentAtMs)
            if day >= from && day <= to { count += 1 }
        }
        return count
    }

    /// The rules that block a touch at `at`, each with the instant it stops blocking.
    private func blocks(
        _ cap: Retain_V1_ChannelCap, campaign: String, at: Int64
    ) -> [(reason: Retain_V1_ContactDecisionReason, retry: Int64)] {
        var result: [(Retain_V1_ContactDecisionReason, Int64)] = []
        let day = calendar.day(of: at)
        func capBlocks(
            _ channel: Retain_V1_ContactChannel?, daily: UInt32, weekly: UInt32,
            _ dailyReason: Retain_V1_ContactDecisionReason, _ weeklyReason: Retain_V1_ContactDecisionReason
        ) {
            if daily > 0, count(channel, from: day, to: day) >= daily {
                result.append((dailyReason, calendar.startOfDay(day + 1)))
            }
            if weekly > 0 {
                var days: [Int32] = []
                for record in records where record.recorded && (channel == nil || record.channel == channel) {
                    let touched = calendar.day(of: record.sentAtMs)
                    if touched >= day - 6 && touched <= day { days.append(touched) }
                }
                if days.count >= Int(weekly) {
                    days.sort()
                    // Once the oldest (count - cap + 1) touches leave the window, one slot is free.
                    result.append((weeklyReason, calendar.startOfDay(days[days.count - Int(weekly)] + 7)))
                }
            }
        }
        capBlocks(cap.channel, daily: cap.maxPerDay, weekly: cap.maxPerWeek, .channelDailyCap, .channelWeeklyCap)
        capBlocks(nil, daily: policy.maxPerDayTotal, weekly: policy.maxPerWeekTotal, .totalDailyCap, .totalWeeklyCap)
        let window = policy.campaignWindowMs[campaign] ?? policy.defaultCampaignWindowMs
        if window > 0 {
            var latest: Int64?
            for record in records where record.recorded && record.campaignId == campaign {
                let distance = at >= record.sentAtMs ? at - record.sentAtMs : record.sentAtMs - at
                if distance < window { latest = max(latest ?? .min, record.sentAtMs) }
            }
            if let latest { result.append((.campaignRepeat, latest + window)) }
        }
        if policy.hasQuietHours, cap.quietHoursApply, policy.quietStartMinute != policy.quietEndMinute {
            let minute = calendar.minuteOfDay(at)
            let start = Int(policy.quietStartMinute)
            let end = Int(policy.quietEndMinute)
            let quiet = start < end ? (minute >= start && minute < end) : (minute >= start || minute < end)
            if quiet {
                let endToday = calendar.startOfDay(day) + Int64(end) * 60_000
                result.append((.quietHours, endToday > at ? endToday : calendar.startOfDay(day + 1) + Int64(end) * 60_000))
            }
        }
        return result
    }

    /// The reason in words.
    static func describe(_ decision: Retain_V1_ChannelDecision, policy: Retain_V1_ContactPolicy) -> String {
        let channel =
            decision.channel.unprefixedName?.lowercased() ?? "\(decision.channel.rawValue)"
        let cap = policy.channels.first { $0.channel == decision.channel }
        switch decision.reason {
        case .allowed: return "\(channel) is allowed"
        case .channelDisabled: return "\(channel) is disabled by the contact policy"
        case .channelDailyCap: return "\(decision.sentToday) \(channel) touch(es) today reach the daily cap of \(cap?.maxPerDay ?? 0)"
        case .channelWeeklyCap:
            return "\(decision.sentThisWeek) \(channel) touch(es) in 7 days reach the weekly cap of \(cap?.maxPerWeek ?? 0)"
        case .totalDailyCap: return "touches today reach the daily cap of \(policy.maxPerDayTotal) over all channels"
        case .totalWeeklyCap: return "touches in 7 days reach the weekly cap of \(policy.maxPerWeekTotal) over all channels"
        case .campaignRepeat: return "the campaign already touched the user inside its repeat window"
        case .quietHours: return "quiet hours in the user's time zone"
        case .userDeleted: return "the user is deleted"
        default: return decision.reason.description
        }
    }
}
