import GatewayCore
import NIOCore
import RetainProto
import RetainRPC
import RetainWire

/// The webhooks of a sharded service (docs/WEBHOOKS.md#through-the-gateway): every call goes to
/// every shard of the service its request names, and every shard must answer (the lists have no
/// room to name a missing shard). A subscription gets its id and signing secret here when the
/// request has none, so every shard keeps the same ones; a caller that may retry a creation
/// names its own `subscription_id` (a retry is then answered `replayed`).
extension Scatter {
    func webhooks(_ rule: ScatterRule, request: ByteBuffer) async throws -> ByteBuffer {
        switch rule {
        case .webhookSubscribe:
            var create = try Self.decode(request, Retain_V1_CreateSubscriptionRequest.self)
            if create.subscriptionId.isEmpty { create.subscriptionId = "sub_" + Self.randomHex(8) }
            if create.secret.isEmpty { create.secret = "whsec_" + Self.randomHex(32) }
            let answers = try await fromEveryShard(Self.encode(create), Retain_V1_CreateSubscriptionResponse.self, route: route)
            return Self.encode(ReportMerge.webhookCreated(answers))
        case .webhookDelete:
            let answers = try await fromEveryShard(request, Retain_V1_DeleteSubscriptionResponse.self, route: route)
            return Self.encode(ReportMerge.webhookDeleted(answers))
        case .webhookRedeliver:
            let answers = try await fromEveryShard(request, Retain_V1_RedeliverResponse.self, route: route)
            return Self.encode(ReportMerge.webhookRedelivered(answers))
        case .webhookSubscriptions:
            let answers = try await fromEveryShard(request, Retain_V1_ListSubscriptionsResponse.self, route: readRoute)
            return Self.encode(ReportMerge.webhookSubscriptions(answers))
        case .webhookDeliveries:
            let limit = ReportMerge.webhookLimit(try Self.decode(request, Retain_V1_ListDeliveriesRequest.self).limit)
            let answers = try await fromEveryShard(request, Retain_V1_ListDeliveriesResponse.self, route: readRoute)
            return Self.encode(ReportMerge.webhookDeliveries(answers, limit: limit))
        case .webhookDeadLetters:
            let limit = ReportMerge.webhookLimit(try Self.decode(request, Retain_V1_ListDeadLettersRequest.self).limit)
            let answers = try await fromEveryShard(request, Retain_V1_ListDeadLettersResponse.self, route: readRoute)
            return Self.encode(ReportMerge.webhookDeadLetters(answers, limit: limit))
        default:
            throw RPCError(.internal, "\(path) has no webhooks rule")
        }
    }

    /// Every shard's answer to `request`, decoded, in shard order; the first failure names its shard.
    private func fromEveryShard<Output: ProtoMessage>(
        _ request: ByteBuffer, _ output: Output.Type, route: Forwarder.Route
    ) async throws -> [Output] {
        let replies = await forwarder.gather(route, path: path, requests: broadcast(request), options: options, deadline: deadline)
        return try everyShard(replies).map { try Self.decodeAnswer($0, output) }
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
