public import RetainProto
public import RetainState

/// A service state that carries webhooks: its subscriptions and outbox live inside it, so they
/// are logged, snapshotted and replicated with it (docs/WEBHOOKS.md).
///
/// A conforming state applies ``webhookEntry(_:)``'s entries with
/// ``WebhookOutbox/apply(_:)``, writes ``WebhookOutbox/snapshotRecords()`` into its snapshot and
/// reads them back with ``WebhookOutbox/restore(_:)``. It queues an event from inside the
/// `apply` of the entry that caused it, with ``WebhookOutbox/enqueue(_:service:to:)``, so the
/// event exists if and only if that entry is durable, on every replica and after every replay.
public protocol WebhookHosting: PersistentState {
    /// The state's webhooks.
    var webhooks: WebhookOutbox { get }
    /// The service's name in requests and bodies: "growth", "feedback", "profile".
    static var webhookService: String { get }
    /// The event types this service emits (what a subscription may ask for).
    static var webhookEventTypes: [String] { get }
    /// The service's log entry that carries one webhooks change.
    static func webhookEntry(_ change: Retain_V1_WebhookLogEntry) -> LogEntry
}
