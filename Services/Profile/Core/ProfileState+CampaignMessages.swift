import RetainProto
import RetainWebhooks

extension ProfileState {
    /// The webhook event type of a campaign's touch (docs/WEBHOOKS.md, docs/CAMPAIGNS.md).
    public static let campaignMessageEventType = "campaign_message"

    /// The `campaign_message` event of one recorded touch, queued when the touch's entry is
    /// applied: its id is the touch's contact id (`campaign:<campaign>:<user>:<n>`), unique for
    /// all time, so a replay, a replica or a retried delivery carries the same delivery id. Body:
    ///
    ///     {"campaign_id":"win-back","user_id":"u1","touch":1,"channel":"push",
    ///      "message":"We miss you","sent_at_ms":…,"end_at_ms":…,"return_kind":"login"}
    static func campaignMessage(
        _ campaign: Retain_V1_Campaign, userID: String, record: Retain_V1_ProfileContactRecord, touch: Int
    ) -> WebhookEvent {
        var data = WebhookJSON()
        data.field("campaign_id", campaign.campaignId)
        data.field("user_id", userID)
        data.field("touch", touch)
        data.field("channel", (record.channel.unprefixedName ?? "UNSPECIFIED").lowercased())
        data.field("message", campaign.message)
        data.field("sent_at_ms", record.sentAtMs)
        data.field("end_at_ms", campaign.endAtMs)
        data.field("return_kind", campaign.returnKind.isEmpty ? "login" : campaign.returnKind)
        return WebhookEvent(
            type: campaignMessageEventType, id: "\(campaignMessageEventType):\(record.contactId)", atMs: record.sentAtMs,
            dataJSON: data.text)
    }
}

extension String {
    /// The string, or nil when it is empty.
    var nonEmpty: String? { isEmpty ? nil : self }
}
