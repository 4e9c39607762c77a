public import RetainProto
import RetainMoves
import RetainState
public import RetainWebhooks

/// Churn-warning webhooks: a periodic sweep (ChurnWarningSweeper in ProfileService) compares the
/// users at CHURN_RISK now with the open warning episodes and logs a
/// ``Retain_V1_ProfileChurnSweep``; applying it queues one `churn_warning` event per user who
/// entered the list (once per episode) and ends the episodes of users who left it.
extension ProfileState: WebhookHosting {
    public static let webhookService = "profile"
    /// The event type of a user entering the churn-warning list.
    public static let churnWarningEventType = "churn_warning"
    public static let webhookEventTypes = [churnWarningEventType, campaignMessageEventType]

    public static func webhookEntry(_ change: Retain_V1_WebhookLogEntry) -> Retain_V1_ProfileLogEntry {
        Retain_V1_ProfileLogEntry(webhook: change)
    }

    /// Users in an open churn-warning episode.
    public var churnEpisodeCount: Int { churnEpisodes.count }

    /// The sweep to log at `now`, or nil when nothing changes or nobody subscribes to
    /// `churn_warning` (episodes are kept only while someone does). At most `limit` users enter
    /// per sweep; the rest enter at the next.
    public func planChurnSweep(now: Int64, evaluator: LifecycleEvaluator, limit: Int = 10_000) -> Retain_V1_ProfileLogEntry? {
        guard webhooks.subscriptions.contains(where: { $0.active && $0.eventTypes.contains(Self.churnWarningEventType) }) else {
            return nil
        }
        let day = calendar.day(of: now)
        var entered: [Retain_V1_ChurnWarning] = []
        var atRisk = Set<String>()
        // The cached stages pick out the users at risk; only they are evaluated in full.
        let stages = stageCache.stages(day: day, evaluator: evaluator, users: users)
        let churnRisk = UInt8(Retain_V1_LifecycleStage.churnRisk.rawValue)
        users.forEachChunk { first, chunk in
            let base = chunk.baseAddress!
            for offset in 0..<chunk.count {
                let user = base + offset
                guard user.pointee.deletedAtMs == 0, user.pointee.registeredAtMs <= now, stages[first + offset] == churnRisk else {
                    continue
                }
                let evaluation = evaluator.evaluate(user.pointee.activity, day: day, dayIsOver: false)
                guard evaluation.stage == .churnRisk else { continue }
                let id = user.pointee.id
                atRisk.insert(id)
                // A fenced user's state is moving: its episode changes at its new owner.
                guard churnEpisodes[id] == nil, entered.count < limit, !fences.contains(id) else { continue }
                let since = evaluator.sinceDay(user.pointee.activity, stage: .churnRisk, day: day)
                entered.append(
                    Retain_V1_ChurnWarning(
                        userId: id, reason: evaluation.churnReason, reasonText: evaluation.reason,
                        recentRate: evaluation.figures.recentRate, baselineRate: evaluation.figures.baselineRate,
                        drop: evaluation.figures.drop, lastActiveMs: user.pointee.activity.lastActive(asOf: now, calendar: calendar),
                        sinceMs: calendar.startOfDay(since), channel: symbols[user.pointee.channel]))
            }
        }
        let left = churnEpisodes.keys.filter { !atRisk.contains($0) && !fences.contains($0) }.sorted()
        guard !entered.isEmpty || !left.isEmpty else { return nil }
        return Retain_V1_ProfileLogEntry(churnSweep: Retain_V1_ProfileChurnSweep(atMs: now, entered: entered, left: left))
    }

    /// Opens an episode (and queues a warning) for each user who entered, unless one is open;
    /// closes the episodes of the users who left.
    mutating func applyChurnSweep(_ sweep: Retain_V1_ProfileChurnSweep) {
        for user in sweep.left { churnEpisodes[user] = nil }
        for warning in sweep.entered where churnEpisodes[warning.userId] == nil {
            churnEpisodes[warning.userId] = sweep.atMs
            webhooks.enqueue(Self.churnWarningWebhook(warning, at: sweep.atMs), service: Self.webhookService)
        }
    }

    /// The webhook event of a user entering the warning list: id
    /// "churn_warning:<user id>:<sweep time>", data
    ///
    ///     {"user_id":"u1","reason":"activity_drop","reason_text":"…","recent_rate":0.1,
    ///      "baseline_rate":0.8,"drop":0.875,"last_active_ms":…,"since_ms":…,
    ///      "channel":"paid_ads","at_ms":…}
    static func churnWarningWebhook(_ warning: Retain_V1_ChurnWarning, at ms: Int64) -> WebhookEvent {
        var data = WebhookJSON()
        data.field("user_id", warning.userId)
        data.field("reason", (warning.reason.unprefixedName ?? "UNSPECIFIED").lowercased())
        data.field("reason_text", warning.reasonText)
        data.field("recent_rate", warning.recentRate)
        data.field("baseline_rate", warning.baselineRate)
        data.field("drop", warning.drop)
        data.field("last_active_ms", warning.lastActiveMs)
        data.field("since_ms", warning.sinceMs)
        data.field("channel", warning.channel)
        data.field("at_ms", ms)
        return WebhookEvent(
            type: churnWarningEventType, id: "\(churnWarningEventType):\(warning.userId):\(ms)", atMs: ms, dataJSON: data.text)
    }
}
