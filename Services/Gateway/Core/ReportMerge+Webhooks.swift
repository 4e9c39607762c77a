public import RetainProto

/// How the answers of a service's shards about its webhooks add up (docs/WEBHOOKS.md): a
/// subscription is kept by every shard, deliveries and dead letters by the shard whose state
/// change queued them.
extension ReportMerge {
    /// CreateSubscription (sent to every shard with the same id and secret): the first answer,
    /// replayed only when every shard already had it.
    public static func webhookCreated(_ answers: [Retain_V1_CreateSubscriptionResponse]) -> Retain_V1_CreateSubscriptionResponse {
        var merged = answers.first ?? Retain_V1_CreateSubscriptionResponse()
        merged.replayed = answers.allSatisfy(\.replayed)
        return merged
    }

    /// ListSubscriptions: each subscription once (by id), in the order the shards list them.
    public static func webhookSubscriptions(_ answers: [Retain_V1_ListSubscriptionsResponse]) -> Retain_V1_ListSubscriptionsResponse {
        var seen = Set<String>()
        var merged: [Retain_V1_WebhookSubscription] = []
        for answer in answers {
            for subscription in answer.subscriptions where seen.insert(subscription.id).inserted { merged.append(subscription) }
        }
        return Retain_V1_ListSubscriptionsResponse(subscriptions: merged)
    }

    /// DeleteSubscription: deleted when any shard had it; the dropped deliveries add up.
    public static func webhookDeleted(_ answers: [Retain_V1_DeleteSubscriptionResponse]) -> Retain_V1_DeleteSubscriptionResponse {
        Retain_V1_DeleteSubscriptionResponse(
            deleted: answers.contains(where: \.deleted), droppedDeliveries: answers.reduce(0) { $0 + $1.droppedDeliveries })
    }

    /// The page size ListDeliveries and ListDeadLetters use for `limit` (0 means 100).
    public static func webhookLimit(_ limit: UInt32) -> Int { limit == 0 ? 100 : Int(limit) }

    /// ListDeliveries: the pending deliveries of every shard by next attempt (then id), the first
    /// `limit`; the totals add up.
    public static func webhookDeliveries(_ answers: [Retain_V1_ListDeliveriesResponse], limit: Int) -> Retain_V1_ListDeliveriesResponse {
        let merged = answers.flatMap(\.deliveries).sorted { ($0.nextAttemptAtMs, $0.deliveryId) < ($1.nextAttemptAtMs, $1.deliveryId) }
        return Retain_V1_ListDeliveriesResponse(deliveries: Array(merged.prefix(limit)), total: answers.reduce(0) { $0 + $1.total })
    }

    /// ListDeadLetters: every shard's dead letters, newest first (then by id), the first `limit`;
    /// the totals add up.
    public static func webhookDeadLetters(_ answers: [Retain_V1_ListDeadLettersResponse], limit: Int) -> Retain_V1_ListDeadLettersResponse {
        let merged = answers.flatMap(\.deadLetters).sorted { ($0.deadAtMs, $1.deliveryId) > ($1.deadAtMs, $0.deliveryId) }
        return Retain_V1_ListDeadLettersResponse(deadLetters: Array(merged.prefix(limit)), total: answers.reduce(0) { $0 + $1.total })
    }

    /// Redeliver: the redelivered add up; an id is not found only when no shard found it (in
    /// the first shard's order).
    public static func webhookRedelivered(_ answers: [Retain_V1_RedeliverResponse]) -> Retain_V1_RedeliverResponse {
        guard let first = answers.first else { return Retain_V1_RedeliverResponse() }
        var missing = Set(first.notFound)
        for answer in answers.dropFirst() { missing.formIntersection(answer.notFound) }
        return Retain_V1_RedeliverResponse(
            redelivered: answers.reduce(0) { $0 + $1.redelivered }, notFound: first.notFound.filter { missing.contains($0) })
    }
}
