public import RetainProto

/// The decisions the Webhooks RPCs take under the state lock: each checks the request against
/// the state and returns the entry to log (nil when nothing changes) and the answer.
extension WebhookOutbox {
    /// Decides a CreateSubscription: validates the request and fills in the defaults; `id` and
    /// `secret` are used when the request has none (the caller generated them). A request that
    /// names an existing subscription with the same url, event types and secret answers it
    /// (replayed, nothing logged); a different one is ``WebhookError/exists(_:)``.
    ///
    /// - Parameters:
    ///   - eventTypes: the types this service emits.
    ///   - now: the server's clock (created_at_ms).
    public func planSubscription(
        _ request: Retain_V1_CreateSubscriptionRequest, eventTypes: [String], id: String, secret: String, now: Int64
    ) throws(WebhookError) -> (entry: Retain_V1_WebhookLogEntry?, subscription: Retain_V1_WebhookSubscription, replayed: Bool) {
        let subscription = try Self.validated(request, eventTypes: eventTypes, id: id, secret: secret, now: now)
        if let existing = self.subscription(subscription.id) {
            guard existing.url == subscription.url, existing.eventTypes == subscription.eventTypes,
                existing.secret == subscription.secret
            else {
                throw .exists("subscription '\(subscription.id)' exists with another url, event types or secret")
            }
            return (nil, existing, true)
        }
        return (Retain_V1_WebhookLogEntry(subscribed: subscription), subscription, false)
    }

    /// The subscription a request asks for, defaults filled in, or why not.
    static func validated(
        _ request: Retain_V1_CreateSubscriptionRequest, eventTypes: [String], id: String, secret: String, now: Int64
    ) throws(WebhookError) -> Retain_V1_WebhookSubscription {
        let url = request.url
        let lower = url.lowercased()
        guard lower.hasPrefix("http://") || lower.hasPrefix("https://") else {
            throw .invalid(field: "url", reason: "must be an http:// or https:// URL")
        }
        let rest = url.drop { $0 != "/" }.dropFirst(2)
        guard url.utf8.count <= 2048, !rest.isEmpty, !rest.hasPrefix("/"),
            !url.unicodeScalars.contains(where: { $0.value <= 0x20 || $0.value == 0x7f })
        else {
            throw .invalid(field: "url", reason: "must name a host, hold no spaces or control characters and be at most 2,048 bytes")
        }
        guard !request.eventTypes.isEmpty else {
            throw .invalid(field: "event_types", reason: "must name at least one of \(eventTypes.joined(separator: ", "))")
        }
        var types: [String] = []
        for type in request.eventTypes where !types.contains(type) {
            guard eventTypes.contains(type) else {
                throw .invalid(
                    field: "event_types", reason: "'\(type)' is not an event type of this service (\(eventTypes.joined(separator: ", ")))")
            }
            types.append(type)
        }
        let chosenID = request.subscriptionId.isEmpty ? id : request.subscriptionId
        guard (1...64).contains(chosenID.utf8.count),
            chosenID.utf8.allSatisfy({ byte in
                (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a)
                    || byte == 0x2e || byte == 0x5f || byte == 0x2d
            })
        else {
            throw .invalid(field: "subscription_id", reason: "must be 1 to 64 of A-Z, a-z, 0-9, '.', '_' and '-'")
        }
        let chosenSecret = request.secret.isEmpty ? secret : request.secret
        guard (16...256).contains(chosenSecret.utf8.count), chosenSecret.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7f }) else {
            throw .invalid(field: "secret", reason: "must be 16 to 256 printable ASCII characters without spaces")
        }
        let rate = request.ratePerSecond == 0 ? 10 : request.ratePerSecond
        guard rate.isFinite, rate >= 0.01, rate <= 10_000 else {
            throw .invalid(field: "rate_per_second", reason: "must be 0.01 to 10,000 (0 means 10), not \(request.ratePerSecond)")
        }
        let burst = request.burst == 0 ? UInt32(max(1, rate.rounded(.up))) : request.burst
        guard burst <= 10_000 else {
            throw .invalid(field: "burst", reason: "must be 1 to 10,000 (0 means the rate rounded up), not \(request.burst)")
        }
        guard request.description.utf8.count <= 256 else {
            throw .invalid(field: "description", reason: "must be at most 256 bytes")
        }
        return Retain_V1_WebhookSubscription(
            id: chosenID, url: url, eventTypes: types, secret: chosenSecret, ratePerSecond: rate, burst: burst,
            active: true, createdAtMs: now, description: request.description)
    }

    /// Decides a DeleteSubscription: the entry (nil when the id is unknown) and how many
    /// deliveries go with it.
    public func planUnsubscribe(_ id: String) -> (entry: Retain_V1_WebhookLogEntry?, dropped: Int) {
        guard subscription(id) != nil else { return (nil, 0) }
        let dropped = pending.values.count { $0.subscriptionId == id } + dead.values.count { $0.subscriptionId == id }
        return (Retain_V1_WebhookLogEntry(unsubscribed: id), dropped)
    }

    /// Decides a Redeliver of `ids` (or, with none, of every dead letter of `subscriptionID`) at
    /// `now`: the entry (nil when nothing is redelivered), the ids put back and the ids not held
    /// as dead letters. Throws ``WebhookError/refused(_:)`` for a dead letter whose subscription
    /// is inactive.
    public func planRedelivery(
        ids: [String], subscriptionID: String, now: Int64
    ) throws(WebhookError) -> (entry: Retain_V1_WebhookLogEntry?, redelivered: [String], notFound: [String]) {
        var chosen: [String] = []
        var notFound: [String] = []
        if ids.isEmpty {
            chosen = dead.values.filter { $0.subscriptionId == subscriptionID }.sorted(by: Self.buriedEarlier).map(\.deliveryId)
        } else {
            for id in ids where !chosen.contains(id) && !notFound.contains(id) {
                if dead[id] != nil { chosen.append(id) } else { notFound.append(id) }
            }
        }
        for id in chosen {
            let owner = dead[id]!.subscriptionId
            guard subscription(owner)?.active == true else {
                throw .refused("dead letter '\(id)' belongs to subscription '\(owner)', which is inactive: create a new subscription")
            }
        }
        guard !chosen.isEmpty else { return (nil, [], notFound) }
        return (Retain_V1_WebhookLogEntry(redelivered: Retain_V1_WebhookRedelivery(deliveryIds: chosen, atMs: now)), chosen, notFound)
    }
}
