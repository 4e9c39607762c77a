import Foundation
import GatewayCore
import RetainProcess
import RetainProto
import RetainRPC
import RetainWebhooks
import RetainWire
import Testing

/// Growth and Feedback as two shards each behind a real `retain-gateway`: webhook calls go by
/// their `service` field to every shard of the named service, and level changes and feedback
/// status changes made through the gateway arrive at a local receiver, signed.
@Suite("Webhooks through the gateway", .serialized)
struct GatewayWebhookTests {
    final class Suite: @unchecked Sendable {
        let root: URL
        var shards: [String: ServerProcess] = [:]
        var gateway: ServerProcess?

        init() throws {
            root = try makeTemporaryDirectory("webhooks-gateway")
            var topology: [Topology.Service] = []
            for service in ["growth", "feedback"] {
                var instances: [Topology.Instance] = []
                for index in 0..<2 {
                    let id = "\(service)-\(index)"
                    let directory = root.appendingPathComponent(id)
                    var arguments = [
                        "serve", "--data-dir", directory.path, "--log-level", "warning", "--ops-port=-1", "--webhook-timeout-ms", "700",
                        "--webhook-initial-backoff-ms", "50", "--webhook-max-backoff-ms", "300", "--webhook-poll-ms", "20",
                    ]
                    if service == "growth" { arguments.append("--allow-client-times") }
                    let process = try ServerProcess("retain-\(service)", arguments: arguments)
                    shards[id] = process
                    instances.append(Topology.Instance(id: id, host: "127.0.0.1", port: process.port))
                }
                topology.append(
                    Topology.Service(name: "retain.v1.\(service.prefix(1).uppercased())\(service.dropFirst())", instances: instances))
            }
            let file = root.appendingPathComponent("topology.json")
            try Topology(services: topology).encoded().write(to: file)
            gateway = try ServerProcess(
                "retain-gateway",
                arguments: ["--topology", file.path, "--health-interval-ms", "200", "--log-level", "warning", "--ops-port=-1"])
        }

        func client(_ id: String) -> RPCClient { RPCClient(host: "127.0.0.1", port: shards[id]!.port) }

        deinit {
            _ = gateway?.stop()
            for process in shards.values { _ = process.stop() }
            try? FileManager.default.removeItem(at: root)
        }
    }

    @Test(
        "level changes and feedback status changes made through the gateway are delivered from every shard, signed with the one secret the gateway chose"
    )
    func endToEnd() async throws {
        let receiver = try WebhookReceiver(mode: "flaky")
        let suite = try Suite()
        let gateway = RPCClient(host: "127.0.0.1", port: suite.gateway!.port)
        let options = CallOptions(timeout: .seconds(20))

        let growthHook = try #require(
            try await gateway.unary(
                Retain_V1_Webhooks.createSubscription,
                .init(service: "growth", url: receiver.url + "/growth", eventTypes: ["level_change"]), options: options
            ).subscription)
        #expect(growthHook.id.hasPrefix("sub_") && growthHook.secret.hasPrefix("whsec_"))
        let feedbackHook = try #require(
            try await gateway.unary(
                Retain_V1_Webhooks.createSubscription,
                .init(
                    service: "feedback", url: receiver.url + "/feedback", eventTypes: ["feedback_status_changed"], secret: testSecret,
                    subscriptionId: "desk"), options: options
            ).subscription)
        // Every shard keeps the same subscription; the gateway's list shows it once.
        for id in ["growth-0", "growth-1"] {
            let shard = suite.client(id)
            let listed = try await shard.unary(Retain_V1_Webhooks.listSubscriptions, .init(service: "growth"))
            #expect(listed.subscriptions.map(\.id) == [growthHook.id])
            await shard.close()
        }
        let listed = try await gateway.unary(Retain_V1_Webhooks.listSubscriptions, .init(service: "growth"), options: options)
        #expect(listed.subscriptions.map(\.id) == [growthHook.id])
        let unknown = await #expect(throws: RPCError.self) {
            _ = try await gateway.unary(Retain_V1_Webhooks.listSubscriptions, .init(service: "ledger"), options: options)
        }
        #expect(unknown?.code == .invalidArgument)

        let users = (0..<24).map { "gw-user-\($0)" }
        for user in users {
            let answer = try await gateway.unary(
                Retain_V1_Growth.awardGrowth,
                .init(userId: user, action: "purchase", idempotencyKey: "o1", value: 100_000, occurredAtMs: testDay), options: options)
            #expect(answer.levelledUp)
        }
        var items: [String] = []
        for index in 0..<8 {
            let submitted = try await gateway.unary(
                Retain_V1_Feedback.submitFeedback,
                .init(
                    userId: "fb-user-\(index)", requestId: "r\(index)", kind: .complaint, category: "delivery", text: "late parcel \(index)"
                ),
                options: options)
            items.append(try #require(submitted.item).itemId)
        }
        for item in items {
            _ = try await gateway.unary(
                Retain_V1_Feedback.triageFeedback, .init(itemId: item, actor: "desk", requestId: "t"), options: options)
            _ = try await gateway.unary(
                Retain_V1_Feedback.resolveFeedback, .init(itemId: item, actor: "desk", requestId: "s", outcome: .fixed), options: options)
            _ = try await gateway.unary(
                Retain_V1_Feedback.addComment, .init(itemId: item, author: "desk", text: "thanks", requestId: "c"), options: options)
        }

        for service in ["growth", "feedback"] {
            let drained = try await eventually(timeout: .seconds(60)) {
                try await gateway.unary(Retain_V1_Webhooks.listDeliveries, .init(service: service), options: options).total == 0
            }
            #expect(drained, "\(service) deliveries still pending")
        }
        let requests = receiver.requests
        let growthRequests = requests.filter { $0.path.hasSuffix("/growth") }
        let feedbackRequests = requests.filter { $0.path.hasSuffix("/feedback") }
        let levelEvents = Set(growthRequests.compactMap { $0.json["event_id"] as? String })
        #expect(levelEvents.count == users.count)
        _ = checkReceived(
            growthRequests, service: "growth", subscription: growthHook.id, secret: growthHook.secret, expectedEvents: levelEvents)
        let levelled = Set(growthRequests.filter(\.acknowledged).compactMap { ($0.json["data"] as? [String: Any])?["user_id"] as? String })
        #expect(levelled == Set(users))
        // Both shards sent some.
        #expect(Set(levelEvents.map { $0.split(separator: ":")[1] }).count == 2)

        var expectedStatus = Set<String>()
        for item in items {
            expectedStatus.insert("feedback_status_changed:\(item):1")
            expectedStatus.insert("feedback_status_changed:\(item):2")
        }
        _ = checkReceived(
            feedbackRequests, service: "feedback", subscription: feedbackHook.id, secret: testSecret, expectedEvents: expectedStatus)
        #expect(Set(feedbackRequests.compactMap { $0.json["event_id"] as? String }) == expectedStatus)
        let transitions = Set(
            feedbackRequests.compactMap { request -> String? in
                guard let data = request.json["data"] as? [String: Any] else { return nil }
                return "\(data["from_status"] ?? "")->\(data["to_status"] ?? "")"
            })
        #expect(transitions == ["new->triaged", "triaged->resolved"])

        let deleted = try await gateway.unary(
            Retain_V1_Webhooks.deleteSubscription, .init(service: "growth", subscriptionId: growthHook.id), options: options)
        #expect(deleted.deleted)
        #expect(
            try await gateway.unary(Retain_V1_Webhooks.listSubscriptions, .init(service: "growth"), options: options).subscriptions.isEmpty)
        await gateway.close()
    }
}
