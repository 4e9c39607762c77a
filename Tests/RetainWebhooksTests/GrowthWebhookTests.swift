import Foundation
import RetainProcess
import RetainProto
import RetainRPC
import RetainWebhooks
import RetainWire
import Testing

let dayMs: Int64 = 86_400_000
/// 2025-03-10 09:00 UTC.
let testDay: Int64 = 1_741_597_200_000

/// Starts the real `retain-growth` with fast webhook retries.
func startGrowth(_ directory: URL, _ extra: [String] = []) throws -> ServerProcess {
    try ServerProcess(
        "retain-growth",
        arguments: [
            "serve", "--data-dir", directory.path, "--log-level", "warning", "--allow-client-times",
            "--webhook-timeout-ms", "700", "--webhook-initial-backoff-ms", "50", "--webhook-max-backoff-ms", "400",
            "--webhook-poll-ms", "20",
        ] + extra)
}

/// Polls `condition` until it holds or `timeout` passes; returns whether it held.
func eventually(timeout: Duration = .seconds(30), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(50))
    }
    return try await condition()
}

let testSecret = "whsec_test_0123456789abcdef0123456789"

/// Checks what a receiver got against what it must have: every request signed with `secret`,
/// every id's requests identical, the id derived from the event and subscription, and every
/// expected event acknowledged at least once. Returns the ids seen more than once.
func checkReceived(
    _ requests: [WebhookReceiver.Request], service: String, subscription: String, secret: String, expectedEvents: Set<String>
) -> Set<String> {
    var bodies: [String: String] = [:]
    var acknowledged = Set<String>()
    var seen: [String: Int] = [:]
    for request in requests {
        let json = request.json
        let eventID = json["event_id"] as? String ?? ""
        #expect(
            WebhookSignature.verify(
                request.signature, body: Array(request.body.utf8), secret: secret, now: Int64(Date().timeIntervalSince1970)),
            "signature of \(request.deliveryID) does not verify")
        #expect(request.deliveryID == WebhookOutbox.deliveryID(service: service, eventID: eventID, subscriptionID: subscription))
        #expect(json["id"] as? String == request.deliveryID)
        #expect(request.eventType == json["type"] as? String)
        if let first = bodies[request.deliveryID] {
            #expect(first == request.body, "a redelivery of \(request.deliveryID) has another body")
        } else {
            bodies[request.deliveryID] = request.body
        }
        seen[request.deliveryID, default: 0] += 1
        if request.acknowledged { acknowledged.insert(eventID) }
    }
    let missing = expectedEvents.subtracting(acknowledged)
    #expect(missing.isEmpty, "events never acknowledged: \(missing.sorted().prefix(10))")
    return Set(seen.filter { $0.value > 1 }.keys)
}

@Suite("Growth level-change webhooks over TCP", .serialized)
struct GrowthWebhookTests {
    func subscribe(_ client: RPCClient, url: String, id: String = "hooks") async throws -> Retain_V1_WebhookSubscription {
        let answer = try await client.unary(
            Retain_V1_Webhooks.createSubscription,
            .init(service: "growth", url: url, eventTypes: ["level_change"], secret: testSecret, subscriptionId: id, ratePerSecond: 500))
        return try #require(answer.subscription)
    }

    /// Awards `user` enough to reach the next level (Silver, then Gold the next day); returns the
    /// level-change event id when the answer says the level rose.
    func levelUp(_ client: RPCClient, _ user: String, day: Int, stream: String) async throws -> String? {
        let answer = try await client.unary(
            Retain_V1_Growth.awardGrowth,
            .init(
                userId: user, action: "purchase", idempotencyKey: "order-\(day)", value: 100_000,
                occurredAtMs: testDay + Int64(day) * dayMs))
        return answer.levelledUp ? "level_change:\(stream):\(answer.levelEventPosition)" : nil
    }

    func streamID(_ client: RPCClient) async throws -> String {
        var stream = client.serverStreaming(Retain_V1_Growth.watchLevelChanges, .init(afterPosition: 0)).makeAsyncIterator()
        return try await stream.next()?.streamId ?? ""
    }

    @Test(
        "every level change is delivered at least once, signed, with the same id on every redelivery, through 5xx, 429, timeouts, dropped connections, a stopped receiver and a kill -9 of the service"
    )
    func atLeastOnceThroughFailures() async throws {
        let receiver = try WebhookReceiver(mode: "flaky")
        let directory = try makeTemporaryDirectory("growth-webhooks")
        defer { try? FileManager.default.removeItem(at: directory) }
        var server = try startGrowth(directory)
        var client = RPCClient(host: "127.0.0.1", port: server.port)
        _ = try await subscribe(client, url: receiver.url)
        let stream = try await streamID(client)
        #expect(!stream.isEmpty)
        var expected = Set<String>()
        for index in 0..<20 {
            if let event = try await levelUp(client, "user-\(index)", day: 0, stream: stream) { expected.insert(event) }
        }
        // The receiver goes away for a while: connections are refused.
        receiver.stop()
        for index in 20..<30 {
            if let event = try await levelUp(client, "user-\(index)", day: 0, stream: stream) { expected.insert(event) }
        }
        try await Task.sleep(for: .milliseconds(300))
        try receiver.restart()
        // The service is killed with deliveries pending and attempts in flight.
        for index in 0..<10 {
            if let event = try await levelUp(client, "user-\(index)", day: 1, stream: stream) { expected.insert(event) }
        }
        await client.close()
        server.kill()
        server = try startGrowth(directory)
        client = RPCClient(host: "127.0.0.1", port: server.port)
        for index in 10..<20 {
            if let event = try await levelUp(client, "user-\(index)", day: 1, stream: stream) { expected.insert(event) }
        }
        #expect(expected.count == 50)
        let drained = try await eventually(timeout: .seconds(60)) {
            try await client.unary(Retain_V1_Webhooks.listDeliveries, .init(service: "growth")).total == 0
        }
        #expect(drained, "deliveries still pending: \(server.log.suffix(2_000))")
        let dead = try await client.unary(Retain_V1_Webhooks.listDeadLetters, .init(service: "growth"))
        #expect(dead.total == 0)
        let requests = receiver.requests
        let repeated = checkReceived(requests, service: "growth", subscription: "hooks", secret: testSecret, expectedEvents: expected)
        // Slow answers (taken, but after the sender's timeout) and dropped connections are sent again.
        #expect(!repeated.isEmpty)
        #expect(Set(requests.map(\.deliveryID)).count == expected.count)
        let sample = try #require(requests.first { $0.acknowledged }?.json["data"] as? [String: Any])
        #expect(sample["user_id"] is String && sample["to_level"] is Int && sample["to_level_name"] is String)
        await client.close()
        #expect(server.stop() == 0)
    }

    @Test("after the attempt limit a delivery is a dead letter; Redeliver sends it again with the same id")
    func deadLettersAndRedeliver() async throws {
        let receiver = try WebhookReceiver(mode: "down")
        let directory = try makeTemporaryDirectory("growth-webhooks")
        defer { try? FileManager.default.removeItem(at: directory) }
        let server = try startGrowth(directory, ["--webhook-max-attempts", "3"])
        let client = RPCClient(host: "127.0.0.1", port: server.port)
        let created = try await client.unary(
            Retain_V1_Webhooks.createSubscription,
            .init(service: "growth", url: receiver.url, eventTypes: ["level_change"]))
        let subscription = try #require(created.subscription)
        #expect(subscription.secret.hasPrefix("whsec_") && subscription.secret.count == 70)
        #expect(subscription.id.hasPrefix("sub_"))
        let listed = try await client.unary(Retain_V1_Webhooks.listSubscriptions, .init(service: "growth"))
        #expect(listed.subscriptions.map(\.id) == [subscription.id] && listed.subscriptions[0].secret.isEmpty)
        let stream = try await streamID(client)
        var expected = Set<String>()
        for index in 0..<5 {
            if let event = try await levelUp(client, "user-\(index)", day: 0, stream: stream) { expected.insert(event) }
        }
        let buried = try await eventually {
            try await client.unary(Retain_V1_Webhooks.listDeadLetters, .init(service: "growth")).total == 5
        }
        #expect(buried)
        let dead = try await client.unary(Retain_V1_Webhooks.listDeadLetters, .init(service: "growth", subscriptionId: subscription.id))
        #expect(dead.deadLetters.allSatisfy { $0.attempts == 3 && $0.lastStatusCode == 503 && $0.deadAtMs > 0 })
        #expect(receiver.requests.count == 15)
        #expect(try await client.unary(Retain_V1_Webhooks.listDeliveries, .init(service: "growth")).total == 0)

        try receiver.set(mode: "ok")
        let one = try await client.unary(
            Retain_V1_Webhooks.redeliver, .init(service: "growth", deliveryIds: [dead.deadLetters[0].deliveryId, "dlv_nothing"]))
        #expect(one.redelivered == 1 && one.notFound == ["dlv_nothing"])
        let all = try await client.unary(Retain_V1_Webhooks.redeliver, .init(service: "growth", subscriptionId: subscription.id))
        #expect(all.redelivered == 4)
        let delivered = try await eventually {
            try await client.unary(Retain_V1_Webhooks.listDeliveries, .init(service: "growth")).total == 0
        }
        #expect(delivered)
        #expect(try await client.unary(Retain_V1_Webhooks.listDeadLetters, .init(service: "growth")).total == 0)
        let requests = receiver.requests
        #expect(requests.count == 20)
        _ = checkReceived(requests, service: "growth", subscription: subscription.id, secret: subscription.secret, expectedEvents: expected)

        // 400 dead-letters at once; 410 stops the subscription.
        try receiver.set(mode: "reject")
        _ = try await levelUp(client, "user-0", day: 1, stream: stream)
        #expect(try await eventually { try await client.unary(Retain_V1_Webhooks.listDeadLetters, .init(service: "growth")).total == 1 })
        try receiver.set(mode: "gone")
        _ = try await levelUp(client, "user-1", day: 1, stream: stream)
        #expect(try await eventually { try await client.unary(Retain_V1_Webhooks.listDeadLetters, .init(service: "growth")).total == 2 })
        let inactive = try await client.unary(Retain_V1_Webhooks.listSubscriptions, .init(service: "growth")).subscriptions[0]
        #expect(!inactive.active && inactive.inactiveReason.contains("410"))
        let refused = await #expect(throws: RPCError.self) {
            _ = try await client.unary(Retain_V1_Webhooks.redeliver, .init(service: "growth", subscriptionId: subscription.id))
        }
        #expect(refused?.code == .failedPrecondition)

        let wrong = await #expect(throws: RPCError.self) {
            _ = try await client.unary(Retain_V1_Webhooks.listSubscriptions, .init(service: "profile"))
        }
        #expect(wrong?.code == .invalidArgument)
        let deleted = try await client.unary(
            Retain_V1_Webhooks.deleteSubscription, .init(service: "growth", subscriptionId: subscription.id))
        #expect(deleted.deleted && deleted.droppedDeliveries == 2)
        await client.close()
        #expect(server.stop() == 0)
    }
}
