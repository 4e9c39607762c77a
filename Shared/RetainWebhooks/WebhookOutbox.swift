import Crypto
public import RetainProto

/// A service's webhooks: its subscriptions, the deliveries waiting for an attempt (the outbox)
/// and the dead letters. A plain value inside the service's state, changed only by
/// ``apply(_:)`` of logged ``Retain_V1_WebhookLogEntry`` values and by ``enqueue(_:service:to:)``
/// from inside the apply of the entry that caused an event, so replay and replicas rebuild it
/// exactly (docs/WEBHOOKS.md).
public struct WebhookOutbox: Sendable {
    /// Dead letters kept at most; past it the oldest tenth is dropped.
    public static let deadLetterLimit = 100_000

    /// Subscriptions, oldest first.
    public internal(set) var subscriptions: [Retain_V1_WebhookSubscription] = []
    /// Deliveries waiting for an attempt, by delivery id.
    var pending: [String: Retain_V1_WebhookDelivery] = [:]
    /// Dead letters, by delivery id.
    var dead: [String: Retain_V1_WebhookDelivery] = [:]
    /// The sequence the next queued delivery gets.
    var nextSequence: UInt64 = 1

    public init() {}

    /// Deliveries waiting for an attempt.
    public var pendingCount: Int { pending.count }
    /// Dead letters kept.
    public var deadLetterCount: Int { dead.count }

    /// The subscription with `id`.
    public func subscription(_ id: String) -> Retain_V1_WebhookSubscription? {
        subscriptions.first { $0.id == id }
    }

    /// The pending delivery with `id`.
    public func pendingDelivery(_ id: String) -> Retain_V1_WebhookDelivery? { pending[id] }

    /// The dead letter with `id`.
    public func deadLetter(_ id: String) -> Retain_V1_WebhookDelivery? { dead[id] }

    // MARK: Queueing events

    /// Queues `event` for every active subscription of its type (or, with `subscriptionID`, for
    /// that subscription only, whatever its types: a campaign's own endpoint). Call it only from
    /// the `apply` of the log entry that caused the event: the deliveries then exist exactly when
    /// that entry is durable, and replay queues them again with the same ids. Returns how many
    /// deliveries were queued (0 when nobody subscribes: nothing is kept).
    ///
    /// - Parameters:
    ///   - event: the event; its id must be unique within the service for all time.
    ///   - service: the service's name ("growth", ...), in delivery ids and bodies.
    ///   - subscriptionID: deliver to this subscription only.
    @discardableResult
    public mutating func enqueue(_ event: WebhookEvent, service: String, to subscriptionID: String? = nil) -> Int {
        guard !subscriptions.isEmpty else { return 0 }
        var queued = 0
        for subscription in subscriptions where subscription.active {
            if let subscriptionID {
                guard subscription.id == subscriptionID else { continue }
            } else {
                guard subscription.eventTypes.contains(event.type) else { continue }
            }
            let id = Self.deliveryID(service: service, eventID: event.id, subscriptionID: subscription.id)
            guard pending[id] == nil, dead[id] == nil else { continue }
            pending[id] = Retain_V1_WebhookDelivery(
                deliveryId: id, subscriptionId: subscription.id, eventType: event.type, eventId: event.id,
                dataJson: event.dataJSON, createdAtMs: event.atMs, attempts: 0, nextAttemptAtMs: event.atMs,
                service: service, sequence: nextSequence)
            nextSequence += 1
            queued += 1
        }
        return queued
    }

    /// The delivery id of `eventID` to `subscriptionID`: "dlv_" and the first 32 hex digits of
    /// SHA-256("<service>\n<event id>\n<subscription id>"). The same on every attempt, after
    /// every restart and on every replica.
    public static func deliveryID(service: String, eventID: String, subscriptionID: String) -> String {
        let digest = SHA256.hash(data: Array("\(service)\n\(eventID)\n\(subscriptionID)".utf8))
        return "dlv_" + digest.prefix(16).map { byte in byte < 16 ? "0" + String(byte, radix: 16) : String(byte, radix: 16) }.joined()
    }

    // MARK: Applying log entries

    /// Applies one logged change; leaves the outbox untouched when it throws.
    public mutating func apply(_ entry: Retain_V1_WebhookLogEntry) throws(WebhookError) {
        if let subscription = entry.subscribed {
            guard !subscription.id.isEmpty, !subscription.url.isEmpty, !subscription.eventTypes.isEmpty else {
                throw .malformedEntry("a webhook subscription without id, url or event types")
            }
            guard self.subscription(subscription.id) == nil else {
                throw .malformedEntry("webhook subscription '\(subscription.id)' exists already")
            }
            subscriptions.append(subscription)
        } else if !entry.unsubscribed.isEmpty {
            let id = entry.unsubscribed
            subscriptions.removeAll { $0.id == id }
            pending = pending.filter { $0.value.subscriptionId != id }
            dead = dead.filter { $0.value.subscriptionId != id }
        } else if !entry.attempts.isEmpty {
            for result in entry.attempts where result.outcome == .unspecified || result.outcome.rawValue > 4 {
                throw .malformedEntry("webhook attempt of '\(result.deliveryId)' without a known outcome")
            }
            for result in entry.attempts { record(result) }
        } else if let redelivery = entry.redelivered {
            for id in redelivery.deliveryIds {
                guard var delivery = dead.removeValue(forKey: id) else { continue }
                delivery.attempts = 0
                delivery.deadAtMs = 0
                delivery.nextAttemptAtMs = redelivery.atMs
                pending[id] = delivery
            }
        } else {
            throw .malformedEntry("a webhook log entry with no change")
        }
    }

    private mutating func record(_ result: Retain_V1_WebhookAttemptResult) {
        guard var delivery = pending[result.deliveryId] else { return }
        delivery.attempts += 1
        delivery.lastAttemptAtMs = result.atMs
        delivery.lastStatusCode = result.statusCode
        delivery.lastError = result.error
        switch result.outcome {
        case .delivered:
            pending[result.deliveryId] = nil
        case .retry:
            delivery.nextAttemptAtMs = result.nextAttemptAtMs
            pending[result.deliveryId] = delivery
        case .gone:
            pending[result.deliveryId] = nil
            bury(delivery, at: result.atMs)
            let subscriptionID = delivery.subscriptionId
            if let index = subscriptions.firstIndex(where: { $0.id == subscriptionID }) {
                subscriptions[index].active = false
                subscriptions[index].inactiveReason = "the endpoint answered 410 Gone at \(result.atMs)"
            }
            let others = pending.values.filter { $0.subscriptionId == subscriptionID }.sorted { $0.sequence < $1.sequence }
            for var other in others {
                pending[other.deliveryId] = nil
                other.lastError = "subscription inactive: the endpoint answered 410 Gone"
                bury(other, at: result.atMs)
            }
        default:
            pending[result.deliveryId] = nil
            bury(delivery, at: result.atMs)
        }
    }

    /// Keeps `delivery` as a dead letter, dropping the oldest tenth past the limit.
    private mutating func bury(_ delivery: Retain_V1_WebhookDelivery, at ms: Int64) {
        var delivery = delivery
        delivery.deadAtMs = ms
        delivery.nextAttemptAtMs = 0
        dead[delivery.deliveryId] = delivery
        if dead.count > Self.deadLetterLimit {
            let oldest = dead.values.sorted(by: Self.buriedEarlier).prefix(Self.deadLetterLimit / 10)
            for letter in oldest { dead[letter.deliveryId] = nil }
        }
    }

    static func buriedEarlier(_ a: Retain_V1_WebhookDelivery, _ b: Retain_V1_WebhookDelivery) -> Bool {
        a.deadAtMs != b.deadAtMs ? a.deadAtMs < b.deadAtMs : a.sequence < b.sequence
    }

    static func dueEarlier(_ a: Retain_V1_WebhookDelivery, _ b: Retain_V1_WebhookDelivery) -> Bool {
        a.nextAttemptAtMs != b.nextAttemptAtMs ? a.nextAttemptAtMs < b.nextAttemptAtMs : a.sequence < b.sequence
    }

    // MARK: Reads

    /// Up to `limit` deliveries due at `now` (the earliest first) whose subscription is active,
    /// leaving out `excluding` (attempts in flight) and taking at most `allowance(id)` of each
    /// subscription (its rate's tokens), each with its subscription.
    public func due(
        now: Int64, limit: Int, excluding: Set<String> = [], allowance: (Retain_V1_WebhookSubscription) -> Int = { _ in .max }
    ) -> [(Retain_V1_WebhookDelivery, Retain_V1_WebhookSubscription)] {
        guard !pending.isEmpty, limit > 0 else { return [] }
        var bySubscription: [String: Retain_V1_WebhookSubscription] = [:]
        for subscription in subscriptions where subscription.active { bySubscription[subscription.id] = subscription }
        var chosen: [Retain_V1_WebhookDelivery] = []
        for delivery in pending.values
        where delivery.nextAttemptAtMs <= now && bySubscription[delivery.subscriptionId] != nil
            && !excluding.contains(delivery.deliveryId)
        {
            chosen.append(delivery)
        }
        chosen.sort(by: Self.dueEarlier)
        var left: [String: Int] = [:]
        var answer: [(Retain_V1_WebhookDelivery, Retain_V1_WebhookSubscription)] = []
        for delivery in chosen where answer.count < limit {
            let subscription = bySubscription[delivery.subscriptionId]!
            let room = left[subscription.id] ?? allowance(subscription)
            guard room > 0 else { continue }
            left[subscription.id] = room - 1
            answer.append((delivery, subscription))
        }
        return answer
    }

    /// Pending deliveries (of `subscriptionID` when not empty), the next due first, at most
    /// `limit`, with how many there are.
    public func pendingDeliveries(subscriptionID: String, limit: Int) -> (deliveries: [Retain_V1_WebhookDelivery], total: Int) {
        let all = pending.values.filter { subscriptionID.isEmpty || $0.subscriptionId == subscriptionID }
        return (Array(all.sorted(by: Self.dueEarlier).prefix(limit)), all.count)
    }

    /// Dead letters (of `subscriptionID` when not empty), the newest first, at most `limit`, with
    /// how many there are.
    public func deadLetters(subscriptionID: String, limit: Int) -> (deliveries: [Retain_V1_WebhookDelivery], total: Int) {
        let all = dead.values.filter { subscriptionID.isEmpty || $0.subscriptionId == subscriptionID }
        return (Array(all.sorted { Self.buriedEarlier($1, $0) }.prefix(limit)), all.count)
    }
}
