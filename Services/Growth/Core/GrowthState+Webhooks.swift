public import RetainProto
public import RetainWebhooks

/// Growth's webhooks: one event type, `level_change`, queued by the award or check-in that
/// raised the user's level (in ``recordLevel``), in the same log entry.
extension GrowthState: WebhookHosting {
    public static let webhookService = "growth"
    /// The event type of a level reached.
    public static let levelChangeEventType = "level_change"
    public static let webhookEventTypes = [levelChangeEventType]

    public static func webhookEntry(_ change: Retain_V1_WebhookLogEntry) -> Retain_V1_GrowthLogEntry {
        Retain_V1_GrowthLogEntry(webhook: change)
    }

    /// The webhook event of a level change: id "level_change:<stream id>:<position>", data
    ///
    ///     {"user_id":"u1","from_level":1,"to_level":2,"to_level_name":"Silver",
    ///      "total_growth":1200,"at_ms":…,"cause_action":"purchase","cause_key":"order-7",
    ///      "stream_id":"…","position":42}
    /// The event counts from `loggedAt` (its created_at_ms, from which retries age), not from the
    /// action's time, which a client may have set in the past.
    static func levelChangeWebhook(_ event: Retain_V1_LevelChangeEvent, streamID: String, loggedAt: Int64) -> WebhookEvent {
        var data = WebhookJSON()
        data.field("user_id", event.userId)
        data.field("from_level", event.fromLevel)
        data.field("to_level", event.toLevel)
        data.field("to_level_name", event.toLevelName)
        data.field("total_growth", event.totalGrowth)
        data.field("at_ms", event.atMs)
        data.field("cause_action", event.causeAction)
        data.field("cause_key", event.causeKey)
        data.field("stream_id", streamID)
        data.field("position", event.position)
        return WebhookEvent(
            type: levelChangeEventType, id: "\(levelChangeEventType):\(streamID):\(event.position)", atMs: loggedAt,
            dataJSON: data.text)
    }
}
