public import RetainClock
import RetainProto
public import RetainRPC
public import RetainState
import RetainServiceKit
public import RetainWebhooks
import RetainWire

/// `retain.v1.Webhooks` for a service whose state hosts webhooks (docs/WEBHOOKS.md): the same
/// six methods for Profile, Growth and Feedback, each over its own state through the one write
/// path. Every request's `service` must name this service.
public enum WebhooksEndpoint {
    /// The methods, on `store`; `clock` gives created and redelivery times.
    public static func router<S: WebhookHosting>(store: StateStore<S>, clock: ServiceClock = .system) -> RPCRouter {
        var router = RPCRouter()
        let service = S.webhookService

        router.write(Retain_V1_Webhooks.createSubscription, to: store) { request, _, transaction in
            try checkService(request.service, service)
            let id = "sub_" + randomHex(bytes: 8)
            let secret = "whsec_" + randomHex(bytes: 32)
            let now = clock.now()
            return try WebhookError.mapped {
                let plan = try transaction.withState { state in
                    try state.webhooks.planSubscription(request, eventTypes: S.webhookEventTypes, id: id, secret: secret, now: now)
                }
                if let entry = plan.entry { try transaction.log(S.webhookEntry(entry)) }
                return Retain_V1_CreateSubscriptionResponse(subscription: plan.subscription, replayed: plan.replayed)
            }
        }

        router.read(Retain_V1_Webhooks.listSubscriptions, from: store) { request, _, state in
            try checkService(request.service, service)
            return Retain_V1_ListSubscriptionsResponse(subscriptions: state.webhooks.subscriptions.map(withoutSecret))
        }

        router.write(Retain_V1_Webhooks.deleteSubscription, to: store) { request, _, transaction in
            try checkService(request.service, service)
            guard !request.subscriptionId.isEmpty else { throw RPCError.invalidArgument(field: "subscription_id", "must not be empty") }
            let plan = transaction.withState { $0.webhooks.planUnsubscribe(request.subscriptionId) }
            if let entry = plan.entry { try transaction.log(S.webhookEntry(entry)) }
            return Retain_V1_DeleteSubscriptionResponse(deleted: plan.entry != nil, droppedDeliveries: UInt64(plan.dropped))
        }

        router.read(Retain_V1_Webhooks.listDeliveries, from: store) { request, _, state in
            try checkService(request.service, service)
            let limit = try limit(request.limit)
            let (deliveries, total) = state.webhooks.pendingDeliveries(subscriptionID: request.subscriptionId, limit: limit)
            return Retain_V1_ListDeliveriesResponse(deliveries: deliveries, total: UInt64(total))
        }

        router.read(Retain_V1_Webhooks.listDeadLetters, from: store) { request, _, state in
            try checkService(request.service, service)
            let limit = try limit(request.limit)
            let (deliveries, total) = state.webhooks.deadLetters(subscriptionID: request.subscriptionId, limit: limit)
            return Retain_V1_ListDeadLettersResponse(deadLetters: deliveries, total: UInt64(total))
        }

        router.write(Retain_V1_Webhooks.redeliver, to: store) { request, _, transaction in
            try checkService(request.service, service)
            guard !request.deliveryIds.isEmpty || !request.subscriptionId.isEmpty else {
                throw RPCError.invalidArgument(field: "delivery_ids", "name dead letters, or a subscription_id for all of its dead letters")
            }
            guard request.deliveryIds.count <= 1_000 else {
                throw RPCError.invalidArgument(field: "delivery_ids", "at most 1,000 ids, not \(request.deliveryIds.count)")
            }
            let now = clock.now()
            return try WebhookError.mapped {
                let plan = try transaction.withState { state in
                    try state.webhooks.planRedelivery(ids: request.deliveryIds, subscriptionID: request.subscriptionId, now: now)
                }
                if let entry = plan.entry { try transaction.log(S.webhookEntry(entry)) }
                return Retain_V1_RedeliverResponse(redelivered: UInt64(plan.redelivered.count), notFound: plan.notFound)
            }
        }
        return router
    }

    /// Refuses a request about another service.
    static func checkService(_ asked: String, _ service: String) throws {
        guard asked == service else {
            throw RPCError.invalidArgument(
                field: "service", "this is the \(service) service: requests must name \"\(service)\", not \"\(asked)\"")
        }
    }

    static func limit(_ asked: UInt32) throws -> Int {
        guard asked <= 1_000 else { throw RPCError.invalidArgument(field: "limit", "must be 0 to 1,000, not \(asked)") }
        return asked == 0 ? 100 : Int(asked)
    }

    static func withoutSecret(_ subscription: Retain_V1_WebhookSubscription) -> Retain_V1_WebhookSubscription {
        var copy = subscription
        copy.secret = ""
        return copy
    }

    /// `bytes` random bytes in lower-case hex (ids and secrets).
    static func randomHex(bytes: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<bytes).map { _ in
            let byte = UInt8.random(in: .min ... .max, using: &generator)
            return byte < 16 ? "0" + String(byte, radix: 16) : String(byte, radix: 16)
        }.joined()
    }
}
