public import RetainProto

/// The body POSTed for a delivery, the same bytes on every attempt:
///
///     {"id":"dlv_…","type":"level_change","event_id":"…","service":"growth",
///      "created_at_ms":1767225600000,"data":{…}}
///
/// `id` is the delivery id (also in the Retain-Delivery-Id header), `data` the event's own
/// fields (docs/WEBHOOKS.md lists them per type).
public enum WebhookBody {
    /// The body of `delivery`, UTF-8.
    public static func encode(_ delivery: Retain_V1_WebhookDelivery) -> [UInt8] {
        var json = WebhookJSON()
        json.field("id", delivery.deliveryId)
        json.field("type", delivery.eventType)
        json.field("event_id", delivery.eventId)
        json.field("service", delivery.service)
        json.field("created_at_ms", delivery.createdAtMs)
        json.field("data", raw: delivery.dataJson.isEmpty ? "{}" : delivery.dataJson)
        return Array(json.text.utf8)
    }
}
