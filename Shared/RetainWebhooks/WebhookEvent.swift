/// An event to deliver to the subscriptions of its type: what ``WebhookOutbox/enqueue(_:service:to:)``
/// takes. Everything in it must come from the log entry being applied (never the clock or a
/// random number), so replay queues the same deliveries with the same ids.
public struct WebhookEvent: Sendable, Hashable {
    /// The event type, e.g. "level_change".
    public var type: String
    /// The event's id, unique within the service for all time (e.g.
    /// "level_change:<stream>:<position>"): delivery ids are derived from it.
    public var id: String
    /// When it happened (the logged time), Unix ms.
    public var atMs: Int64
    /// The body's "data": a JSON object (``WebhookJSON``).
    public var dataJSON: String

    public init(type: String, id: String, atMs: Int64, dataJSON: String) {
        self.type = type
        self.id = id
        self.atMs = atMs
        self.dataJSON = dataJSON
    }
}
