public import RetainProto
import RetainState
public import RetainWebhooks

/// Feedback's webhooks: one event type, `feedback_status_changed`, queued by the change (triage,
/// start, resolve, close, reopen) that moved an item's status, in the same log entry.
extension FeedbackState: WebhookHosting {
    public static let webhookService = "feedback"
    /// The event type of an item's status change.
    public static let statusChangedEventType = "feedback_status_changed"
    public static let webhookEventTypes = [statusChangedEventType]

    public static func webhookEntry(_ change: Retain_V1_WebhookLogEntry) -> Retain_V1_FeedbackLogEntry {
        Retain_V1_FeedbackLogEntry(webhook: change)
    }

    /// A status name as bodies carry it: "new", "triaged", "in_progress", "resolved", "closed".
    static func statusName(_ status: UInt8) -> String {
        (Retain_V1_FeedbackStatus(rawValue: Int32(status)).unprefixedName ?? "UNSPECIFIED").lowercased()
    }

    /// The webhook event of an item's status change: id
    /// "feedback_status_changed:<item id>:<change number>", data
    ///
    ///     {"item_id":"fb_…","user_id":"u1","kind":"complaint","category":"delivery",
    ///      "team":"logistics","from_status":"new","to_status":"in_progress","at_ms":…,
    ///      "change":2}
    func statusChangeWebhook(itemID: String, index: Int, from old: StoredItem, to new: StoredItem, at ms: Int64) -> WebhookEvent {
        var data = WebhookJSON()
        data.field("item_id", itemID)
        data.field("user_id", users[old.user])
        data.field("kind", Retain_V1_FeedbackKind(rawValue: Int32(new.kind)).unprefixedName?.lowercased() ?? "")
        data.field("category", categories[new.category])
        data.field("team", teams[new.team])
        data.field("from_status", Self.statusName(old.status))
        data.field("to_status", Self.statusName(new.status))
        data.field("at_ms", ms)
        data.field("change", index)
        return WebhookEvent(
            type: Self.statusChangedEventType, id: "\(Self.statusChangedEventType):\(itemID):\(index)", atMs: ms, dataJSON: data.text)
    }
}
