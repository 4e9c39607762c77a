import NIOCore
import RetainProto
import RetainRPC
import RetainWire

/// Service-addressed calls (docs/WEBHOOKS.md#through-the-gateway): a method of
/// `retain.v1.Webhooks` is served by each of Profile, Growth and Feedback for itself, and its
/// request names the service in field 1 (`string service`). The gateway sends such a call to
/// every shard of the named service: a write must succeed on every shard (the first failure is
/// answered, naming its shard), lists are merged. CreateSubscription gets its subscription id and
/// signing secret here when it has none, so every shard keeps the same ones.
extension Forwarder {
    /// The services whose calls go by their request's `service` field, and the names it takes.
    static let serviceAddressed: Set<String> = ["retain.v1.Webhooks"]
    static let addressableServices = ["profile": "retain.v1.Profile", "growth": "retain.v1.Growth", "feedback": "retain.v1.Feedback"]

    /// Whether `path` is a method of a service-addressed service.
    static func isServiceAddressed(_ path: String) -> Bool {
        serviceAddressed.contains(String(path.prefix { $0 != "/" }))
    }

    /// Serves a service-addressed call: to every shard of the service its request names.
    func forwardServiceAddressed(path: String, request: ByteBuffer, context: ServerContext, responder: ServerResponder) {
        let header = context.header
        let deadline = ContinuousClock.now + (context.timeRemaining ?? configuration.defaultTimeout)
        let task = Task {
            do {
                var options = self.options(from: header)
                options.authorization = self.authorization(for: context.caller)
                responder.succeed(encoded: try await self.serviceAddressedAnswer(path, request, options: options, deadline: deadline))
            } catch {
                responder.finish(error)
            }
        }
        responder.onCancel { task.cancel() }
    }

    private func serviceAddressedAnswer(
        _ path: String, _ request: ByteBuffer, options: CallOptions, deadline: ContinuousClock.Instant
    ) async throws -> ByteBuffer {
        var request = request
        let named: String
        switch path {
        case Retain_V1_Webhooks.createSubscription.path:
            var create = try Scatter.decode(request, Retain_V1_CreateSubscriptionRequest.self)
            if create.subscriptionId.isEmpty { create.subscriptionId = "sub_" + Self.randomHex(8) }
            if create.secret.isEmpty { create.secret = "whsec_" + Self.randomHex(32) }
            request = Scatter.encode(create)
            named = create.service
        case Retain_V1_Webhooks.listSubscriptions.path: named = try Scatter.decode(request, Retain_V1_ListSubscriptionsRequest.self).service
        case Retain_V1_Webhooks.deleteSubscription.path:
            named = try Scatter.decode(request, Retain_V1_DeleteSubscriptionRequest.self).service
        case Retain_V1_Webhooks.listDeliveries.path: named = try Scatter.decode(request, Retain_V1_ListDeliveriesRequest.self).service
        case Retain_V1_Webhooks.listDeadLetters.path: named = try Scatter.decode(request, Retain_V1_ListDeadLettersRequest.self).service
        case Retain_V1_Webhooks.redeliver.path: named = try Scatter.decode(request, Retain_V1_RedeliverRequest.self).service
        default: throw RPCError(.unimplemented, "unknown method \(FieldFormat.quoted(path))")
        }
        guard let service = Self.addressableServices[named] else {
            throw RPCError.invalidArgument(
                field: "service",
                "must be one of \(Self.addressableServices.keys.sorted().joined(separator: ", ")), not \(FieldFormat.quoted(named))")
        }
        guard let backends = services[service] else {
            throw RPCError(.unavailable, "no instance of \(service) in the gateway's routing", details: ["not_processed": "true"])
        }
        let route = Route(backends: backends, input: nil, userKeyed: false, streaming: false, idempotent: false)
        let replies = await gather(
            route, path: path, requests: backends.backends.indices.map { ($0, request) }, options: options, deadline: deadline)
        var answers: [ByteBuffer] = []
        for reply in replies {
            switch reply.result {
            case .success(let answer): answers.append(answer)
            case .failure(let error): throw Self.shardError(error, shard: backends.backends[reply.shard].id)
            }
        }
        return try Self.mergeServiceAddressed(path, answers, request: request)
    }

    /// The answers of every shard merged into one.
    static func mergeServiceAddressed(_ path: String, _ answers: [ByteBuffer], request: ByteBuffer) throws -> ByteBuffer {
        func decoded<M: ProtoMessage>(_ type: M.Type) throws -> [M] { try answers.map { try Scatter.decodeAnswer($0, type) } }
        switch path {
        case Retain_V1_Webhooks.createSubscription.path:
            let all = try decoded(Retain_V1_CreateSubscriptionResponse.self)
            var first = all[0]
            first.replayed = all.allSatisfy(\.replayed)
            return Scatter.encode(first)
        case Retain_V1_Webhooks.listSubscriptions.path:
            var seen = Set<String>()
            var merged: [Retain_V1_WebhookSubscription] = []
            for answer in try decoded(Retain_V1_ListSubscriptionsResponse.self) {
                for subscription in answer.subscriptions where seen.insert(subscription.id).inserted { merged.append(subscription) }
            }
            return Scatter.encode(Retain_V1_ListSubscriptionsResponse(subscriptions: merged))
        case Retain_V1_Webhooks.deleteSubscription.path:
            let all = try decoded(Retain_V1_DeleteSubscriptionResponse.self)
            return Scatter.encode(
                Retain_V1_DeleteSubscriptionResponse(
                    deleted: all.contains(where: \.deleted), droppedDeliveries: all.reduce(0) { $0 + $1.droppedDeliveries }))
        case Retain_V1_Webhooks.listDeliveries.path:
            let limit = Int(try Scatter.decode(request, Retain_V1_ListDeliveriesRequest.self).limit)
            let all = try decoded(Retain_V1_ListDeliveriesResponse.self)
            let merged = all.flatMap(\.deliveries).sorted {
                ($0.nextAttemptAtMs, $0.deliveryId) < ($1.nextAttemptAtMs, $1.deliveryId)
            }
            return Scatter.encode(
                Retain_V1_ListDeliveriesResponse(
                    deliveries: Array(merged.prefix(limit == 0 ? 100 : limit)), total: all.reduce(0) { $0 + $1.total }))
        case Retain_V1_Webhooks.listDeadLetters.path:
            let limit = Int(try Scatter.decode(request, Retain_V1_ListDeadLettersRequest.self).limit)
            let all = try decoded(Retain_V1_ListDeadLettersResponse.self)
            let merged = all.flatMap(\.deadLetters).sorted { ($0.deadAtMs, $1.deliveryId) > ($1.deadAtMs, $0.deliveryId) }
            return Scatter.encode(
                Retain_V1_ListDeadLettersResponse(
                    deadLetters: Array(merged.prefix(limit == 0 ? 100 : limit)), total: all.reduce(0) { $0 + $1.total }))
        case Retain_V1_Webhooks.redeliver.path:
            let all = try decoded(Retain_V1_RedeliverResponse.self)
            var missing = Set(all[0].notFound)
            for answer in all.dropFirst() { missing.formIntersection(answer.notFound) }
            return Scatter.encode(
                Retain_V1_RedeliverResponse(
                    redelivered: all.reduce(0) { $0 + $1.redelivered }, notFound: all[0].notFound.filter { missing.contains($0) }))
        default:
            throw RPCError(.unimplemented, "unknown method \(FieldFormat.quoted(path))")
        }
    }

    /// `bytes` random bytes in lower-case hex.
    static func randomHex(_ bytes: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<bytes).map { _ in
            let byte = UInt8.random(in: .min ... .max, using: &generator)
            return byte < 16 ? "0" + String(byte, radix: 16) : String(byte, radix: 16)
        }.joined()
    }
}
