import RetainProto
import RetainWebhooks
import Testing

@Suite("webhooks: signing, backoff, rate, outbox")
struct WebhookCoreTests {
    // MARK: Signing

    /// The vector was computed independently:
    /// python3 -c "import hmac,hashlib; print(hmac.new(b'whsec_0123456789abcdef',
    ///   b'1767225600.{\"id\":\"dlv_1\",\"type\":\"level_change\"}', hashlib.sha256).hexdigest())"
    @Test("the signature matches an HMAC-SHA256 computed by Python's hmac")
    func signatureKnownVector() {
        let body = Array(#"{"id":"dlv_1","type":"level_change"}"#.utf8)
        let header = WebhookSignature.sign(body: body, secret: "whsec_0123456789abcdef", timestamp: 1_767_225_600)
        #expect(header == "t=1767225600,v1=eef44b4acd8f2f0408375c0ba4108fd757b915a0e54fcb2bfda74e244b51140e")
        #expect(WebhookSignature.verify(header, body: body, secret: "whsec_0123456789abcdef", now: 1_767_225_650))
    }

    @Test("verification refuses another body, another secret and an old timestamp")
    func verificationRefuses() {
        let body = Array("{}".utf8)
        let header = WebhookSignature.sign(body: body, secret: "whsec_aaaaaaaaaaaaaaaa", timestamp: 1000)
        #expect(WebhookSignature.verify(header, body: body, secret: "whsec_aaaaaaaaaaaaaaaa", now: 1000))
        #expect(!WebhookSignature.verify(header, body: Array("{ }".utf8), secret: "whsec_aaaaaaaaaaaaaaaa", now: 1000))
        #expect(!WebhookSignature.verify(header, body: body, secret: "whsec_bbbbbbbbbbbbbbbb", now: 1000))
        #expect(!WebhookSignature.verify(header, body: body, secret: "whsec_aaaaaaaaaaaaaaaa", now: 1000 + 301))
    }

    // MARK: Backoff

    @Test("backoff doubles from the initial delay, is capped, and jitters only its second half")
    func backoff() {
        var policy = WebhookRetryPolicy()
        policy.initialBackoffMs = 1_000
        policy.maximumBackoffMs = 60_000
        #expect(policy.backoffMs(afterAttempt: 1, random: 0) == 500)
        #expect(policy.backoffMs(afterAttempt: 1, random: 0.999_999) == 999)
        #expect(policy.backoffMs(afterAttempt: 2, random: 0) == 1_000)
        #expect(policy.backoffMs(afterAttempt: 3, random: 0.5) == 3_000)
        #expect(policy.backoffMs(afterAttempt: 7, random: 0) == 30_000)  // 64 s capped at 60 s
        #expect(policy.backoffMs(afterAttempt: 1_000, random: 0.999_999) <= 60_000)
        #expect(policy.backoffMs(afterAttempt: 1_000, random: 0) == 30_000)
    }

    @Test("2xx delivers, 410 is gone, other 4xx dead-letter, 408/429/5xx/no answer retry")
    func verdicts() {
        #expect(WebhookRetryPolicy.verdict(status: 200) == .delivered)
        #expect(WebhookRetryPolicy.verdict(status: 204) == .delivered)
        #expect(WebhookRetryPolicy.verdict(status: 410) == .gone)
        #expect(WebhookRetryPolicy.verdict(status: 400) == .deadLetter)
        #expect(WebhookRetryPolicy.verdict(status: 404) == .deadLetter)
        #expect(WebhookRetryPolicy.verdict(status: 408) == .retry)
        #expect(WebhookRetryPolicy.verdict(status: 429) == .retry)
        #expect(WebhookRetryPolicy.verdict(status: 500) == .retry)
        #expect(WebhookRetryPolicy.verdict(status: 503) == .retry)
        #expect(WebhookRetryPolicy.verdict(status: 302) == .retry)
        #expect(WebhookRetryPolicy.verdict(status: nil) == .retry)
    }

    @Test("a delivery is given up after the attempt limit or past the age limit")
    func givingUp() {
        var policy = WebhookRetryPolicy()
        policy.maximumAttempts = 3
        policy.maximumAgeMs = 10_000
        policy.initialBackoffMs = 100
        var delivery = Retain_V1_WebhookDelivery(deliveryId: "d", createdAtMs: 0, attempts: 1)
        let second = policy.result(of: delivery, status: 503, error: "HTTP 503", now: 1_000, random: 0)
        #expect(second.outcome == .retry)
        #expect(second.nextAttemptAtMs == 1_000 + 100)
        delivery.attempts = 2
        #expect(policy.result(of: delivery, status: 503, error: "HTTP 503", now: 1_000, random: 0).outcome == .deadLettered)
        delivery.attempts = 0
        #expect(policy.result(of: delivery, status: nil, error: "refused", now: 9_990, random: 0).outcome == .deadLettered)
        #expect(policy.result(of: delivery, status: 400, error: "HTTP 400", now: 10, random: 0).outcome == .deadLettered)
        #expect(policy.result(of: delivery, status: 410, error: "HTTP 410", now: 10, random: 0).outcome == .gone)
        #expect(policy.result(of: delivery, status: 201, error: "", now: 10, random: 0).outcome == .delivered)
    }

    // MARK: Rate

    @Test("the token bucket lets a burst through, then the rate")
    func tokenBucket() {
        var bucket = TokenBucket(rate: 2, capacity: 3, now: 0)
        let firstFour = (0..<4).map { _ in bucket.take(now: 0) }
        #expect(firstFour == [true, true, true, false])
        let wait = bucket.wait(now: 0)
        #expect(abs(wait - 0.5) < 1e-9)
        let early = bucket.take(now: 0.4)
        let onTime = bucket.take(now: 0.5)
        #expect(!early && onTime)
        // Ten seconds later only the capacity is there.
        let available = bucket.available(now: 10.5)
        #expect(available == 3)
        var taken = 0
        var t = 10.5
        while t < 20.5 {
            if bucket.take(now: t) { taken += 1 }
            t += 0.01
        }
        #expect(taken >= 22 && taken <= 24)  // 3 at once, then 2 a second for 10 s
    }

    // MARK: Outbox

    func subscribed(_ outbox: inout WebhookOutbox, id: String, types: [String] = ["level_change"]) throws {
        let request = Retain_V1_CreateSubscriptionRequest(
            service: "growth", url: "http://127.0.0.1:9/hook", eventTypes: types, secret: "whsec_0123456789abcdef", subscriptionId: id)
        let plan = try outbox.planSubscription(request, eventTypes: ["level_change", "other"], id: "x", secret: "y", now: 5)
        try outbox.apply(plan.entry!)
    }

    func event(_ n: Int, type: String = "level_change") -> WebhookEvent {
        WebhookEvent(type: type, id: "\(type):s:\(n)", atMs: Int64(1_000 + n), dataJSON: #"{"n":\#(n)}"#)
    }

    @Test("an event is queued once per subscription of its type, with ids derived from service, event and subscription")
    func enqueue() throws {
        var outbox = WebhookOutbox()
        let queued1 = outbox.enqueue(event(1), service: "growth")
        #expect(queued1 == 0)
        try subscribed(&outbox, id: "a")
        try subscribed(&outbox, id: "b", types: ["other"])
        let queued2 = outbox.enqueue(event(2), service: "growth")
        #expect(queued2 == 1)
        let queued3 = outbox.enqueue(event(3, type: "other"), service: "growth")
        #expect(queued3 == 1)
        let queued4 = outbox.enqueue(event(4, type: "campaign"), service: "growth", to: "b")
        #expect(queued4 == 1)
        #expect(outbox.pendingCount == 3)
        let id = WebhookOutbox.deliveryID(service: "growth", eventID: "level_change:s:2", subscriptionID: "a")
        #expect(id == WebhookOutbox.deliveryID(service: "growth", eventID: "level_change:s:2", subscriptionID: "a"))
        #expect(id != WebhookOutbox.deliveryID(service: "growth", eventID: "level_change:s:2", subscriptionID: "b"))
        #expect(id != WebhookOutbox.deliveryID(service: "profile", eventID: "level_change:s:2", subscriptionID: "a"))
        #expect(id.hasPrefix("dlv_") && id.count == 36)
        let delivery = try #require(outbox.pendingDelivery(id))
        #expect(delivery.nextAttemptAtMs == 1_002 && delivery.attempts == 0 && delivery.dataJson == #"{"n":2}"#)
        let body = String(decoding: WebhookBody.encode(delivery), as: UTF8.self)
        #expect(
            body
                == #"{"id":"\#(id)","type":"level_change","event_id":"level_change:s:2","service":"growth","created_at_ms":1002,"data":{"n":2}}"#
        )
    }

    @Test("attempt results move a delivery: retry, delivered, dead letter, redelivered with its id; 410 stops the subscription")
    func transitions() throws {
        var outbox = WebhookOutbox()
        try subscribed(&outbox, id: "a")
        for n in 1...4 { outbox.enqueue(event(n), service: "growth") }
        let ids = (1...4).map { WebhookOutbox.deliveryID(service: "growth", eventID: "level_change:s:\($0)", subscriptionID: "a") }
        #expect(outbox.due(now: 1_002, limit: 10).map(\.0.deliveryId) == [ids[0], ids[1]])
        #expect(outbox.due(now: 1_010, limit: 10, excluding: [ids[0]]).count == 3)
        #expect(outbox.due(now: 1_010, limit: 10) { _ in 2 }.count == 2)

        try outbox.apply(
            Retain_V1_WebhookLogEntry(attempts: [
                Retain_V1_WebhookAttemptResult(deliveryId: ids[0], outcome: .retry, atMs: 2_000, nextAttemptAtMs: 5_000, statusCode: 503),
                Retain_V1_WebhookAttemptResult(deliveryId: ids[1], outcome: .delivered, atMs: 2_000, statusCode: 200),
                Retain_V1_WebhookAttemptResult(deliveryId: ids[2], outcome: .deadLettered, atMs: 2_000, statusCode: 400),
            ]))
        #expect(outbox.pendingDelivery(ids[0])?.attempts == 1)
        #expect(outbox.pendingDelivery(ids[0])?.nextAttemptAtMs == 5_000)
        #expect(outbox.pendingDelivery(ids[1]) == nil && outbox.deadLetter(ids[1]) == nil)
        #expect(outbox.deadLetter(ids[2])?.lastStatusCode == 400)
        #expect(outbox.due(now: 4_999, limit: 10).map(\.0.deliveryId) == [ids[3]])

        // A result for a delivery no longer pending changes nothing.
        try outbox.apply(
            Retain_V1_WebhookLogEntry(attempts: [
                Retain_V1_WebhookAttemptResult(deliveryId: ids[1], outcome: .retry, atMs: 2_100, nextAttemptAtMs: 9_000)
            ]))
        #expect(outbox.pendingDelivery(ids[1]) == nil)
        #expect(throws: WebhookError.self) {
            try outbox.apply(Retain_V1_WebhookLogEntry(attempts: [Retain_V1_WebhookAttemptResult(deliveryId: ids[0])]))
        }

        let plan = try outbox.planRedelivery(ids: [ids[2], "dlv_unknown"], subscriptionID: "", now: 7_000)
        #expect(plan.redelivered == [ids[2]] && plan.notFound == ["dlv_unknown"])
        try outbox.apply(plan.entry!)
        #expect(outbox.pendingDelivery(ids[2])?.attempts == 0)
        #expect(outbox.pendingDelivery(ids[2])?.nextAttemptAtMs == 7_000)
        #expect(outbox.deadLetterCount == 0)

        try outbox.apply(
            Retain_V1_WebhookLogEntry(attempts: [
                Retain_V1_WebhookAttemptResult(deliveryId: ids[3], outcome: .gone, atMs: 8_000, statusCode: 410)
            ]))
        #expect(outbox.subscription("a")?.active == false)
        #expect(outbox.pendingCount == 0 && outbox.deadLetterCount == 3)
        let queued5 = outbox.enqueue(event(9), service: "growth")
        #expect(queued5 == 0)
        #expect(throws: WebhookError.self) { try outbox.planRedelivery(ids: [ids[3]], subscriptionID: "", now: 9_000) }

        let drop = outbox.planUnsubscribe("a")
        #expect(drop.dropped == 3)
        try outbox.apply(drop.entry!)
        #expect(outbox.subscriptions.isEmpty && outbox.deadLetterCount == 0)
    }

    @Test("create subscription: defaults, a retry answers the same, a different body under the id is refused, bad fields named")
    func planSubscription() throws {
        var outbox = WebhookOutbox()
        let request = Retain_V1_CreateSubscriptionRequest(service: "growth", url: "https://example.com/h", eventTypes: ["level_change"])
        let plan = try outbox.planSubscription(
            request, eventTypes: ["level_change"], id: "sub_1", secret: "whsec_" + String(repeating: "a", count: 64), now: 9)
        #expect(plan.subscription.ratePerSecond == 10 && plan.subscription.burst == 10 && plan.subscription.active)
        try outbox.apply(plan.entry!)
        var again = request
        again.subscriptionId = "sub_1"
        again.secret = plan.subscription.secret
        let replay = try outbox.planSubscription(again, eventTypes: ["level_change"], id: "z", secret: "z", now: 10)
        #expect(replay.replayed && replay.entry == nil)
        again.url = "https://example.com/other"
        #expect(throws: WebhookError.exists("subscription 'sub_1' exists with another url, event types or secret")) {
            try outbox.planSubscription(again, eventTypes: ["level_change"], id: "z", secret: "z", now: 10)
        }
        func field(_ change: (inout Retain_V1_CreateSubscriptionRequest) -> Void) -> String? {
            var bad = request
            change(&bad)
            do {
                _ = try outbox.planSubscription(bad, eventTypes: ["level_change"], id: "s2", secret: "whsec_0123456789abcdef", now: 1)
                return nil
            } catch {
                if case .invalid(let field, _) = error { return field }
                return "?"
            }
        }
        #expect(field { $0.url = "ftp://x" } == "url")
        #expect(field { $0.url = "http:///x" } == "url")
        #expect(field { $0.eventTypes = [] } == "event_types")
        #expect(field { $0.eventTypes = ["churn_warning"] } == "event_types")
        #expect(field { $0.secret = "short" } == "secret")
        #expect(field { $0.subscriptionId = "a b" } == "subscription_id")
        #expect(field { $0.ratePerSecond = 20_000 } == "rate_per_second")
        #expect(field { $0.ratePerSecond = 0.5 } == nil)
    }

    @Test("the snapshot records give the same outbox back")
    func snapshotRoundTrip() throws {
        var outbox = WebhookOutbox()
        try subscribed(&outbox, id: "a")
        for n in 1...2_500 { outbox.enqueue(event(n), service: "growth") }
        let ids = (1...40).map { WebhookOutbox.deliveryID(service: "growth", eventID: "level_change:s:\($0)", subscriptionID: "a") }
        try outbox.apply(
            Retain_V1_WebhookLogEntry(
                attempts: ids.map { Retain_V1_WebhookAttemptResult(deliveryId: $0, outcome: .deadLettered, atMs: 3_000, statusCode: 404) }))
        let records = outbox.snapshotRecords()
        #expect(records.count == 1 + 3 + 1)
        var restored = WebhookOutbox()
        for record in records { try restored.restore(record) }
        #expect(restored.subscriptions == outbox.subscriptions)
        #expect(restored.pendingCount == 2_460 && restored.deadLetterCount == 40)
        #expect(
            restored.pendingDeliveries(subscriptionID: "", limit: 5_000).deliveries
                == outbox.pendingDeliveries(subscriptionID: "", limit: 5_000).deliveries)
        #expect(
            restored.deadLetters(subscriptionID: "a", limit: 100).deliveries
                == outbox.deadLetters(subscriptionID: "a", limit: 100).deliveries)
        // Sequences go on where they were.
        let queued6 = restored.enqueue(event(9_999), service: "growth")
        #expect(queued6 == 1)
        let queued7 = outbox.enqueue(event(9_999), service: "growth")
        #expect(queued7 == 1)
        #expect(
            restored.pendingDeliveries(subscriptionID: "", limit: 5_000).deliveries
                == outbox.pendingDeliveries(subscriptionID: "", limit: 5_000).deliveries)
    }
}
