import Foundation
import GrowthCore
import Logging
import RetainProto
import RetainState
import RetainWebhooks
import Testing

@Suite("webhook outbox recovery")
struct OutboxRecoveryTests {
    let logger = Logger(label: "webhooks-test")

    func levelUp(_ store: StateStore<GrowthState>, _ user: String) async throws {
        let request = Retain_V1_AwardGrowthRequest(userId: user, action: "purchase", idempotencyKey: "o", value: 100_000)
        _ = try await store.writeDurably { transaction in
            let decision = try transaction.state.planAward(request, at: testDay, now: testDay, rules: GrowthRules.standard)
            if case .changed(let entry, _) = decision { try transaction.log(entry) }
        }
    }

    func log(_ store: StateStore<GrowthState>, _ change: Retain_V1_WebhookLogEntry) async throws {
        _ = try await store.writeDurably { try $0.log(GrowthState.webhookEntry(change)) }
    }

    /// What the outbox holds, to compare across reopenings.
    func contents(_ store: StateStore<GrowthState>) -> [String] {
        store.read { state in
            state.webhooks.subscriptions.map { "\($0)" }
                + state.webhooks.pendingDeliveries(subscriptionID: "", limit: 1_000).deliveries.map { "\($0)" }
                + ["dead"] + state.webhooks.deadLetters(subscriptionID: "", limit: 1_000).deliveries.map { "\($0)" }
        }
    }

    @Test(
        "replay and a snapshot give the outbox back as it was: pending with their attempts, dead letters, the same ids; delivered ones stay gone"
    )
    func replayAndSnapshot() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("outbox-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var store = try StateStore<GrowthState>(directory: directory, logger: logger)
        _ = try await store.writeDurably { try $0.log(Retain_V1_GrowthLogEntry(streamStarted: .init(streamId: "s1", atMs: testDay))) }
        let request = Retain_V1_CreateSubscriptionRequest(
            service: "growth", url: "http://127.0.0.1:9/h", eventTypes: ["level_change"], secret: testSecret, subscriptionId: "a")
        let plan = try store.read {
            try $0.webhooks.planSubscription(request, eventTypes: GrowthState.webhookEventTypes, id: "", secret: "", now: 1)
        }
        try await log(store, plan.entry!)
        for index in 0..<5 { try await levelUp(store, "u\(index)") }
        let ids = (1...5).map { WebhookOutbox.deliveryID(service: "growth", eventID: "level_change:s1:\($0)", subscriptionID: "a") }
        #expect(store.read { state in ids.allSatisfy { state.webhooks.pendingDelivery($0) != nil } })
        try await log(
            store,
            Retain_V1_WebhookLogEntry(attempts: [
                .init(deliveryId: ids[0], outcome: .delivered, atMs: testDay + 10, statusCode: 200),
                .init(
                    deliveryId: ids[1], outcome: .retry, atMs: testDay + 10, nextAttemptAtMs: testDay + 900, statusCode: 503,
                    error: "HTTP 503"),
                .init(deliveryId: ids[2], outcome: .deadLettered, atMs: testDay + 10, statusCode: 404, error: "HTTP 404"),
            ]))
        let before = contents(store)
        store.close()

        store = try StateStore<GrowthState>(directory: directory, logger: logger)
        #expect(contents(store) == before)
        #expect(store.read { $0.webhooks.pendingDelivery(ids[0]) == nil && $0.webhooks.pendingDelivery(ids[1])?.attempts == 1 })
        #expect(try store.snapshot() != nil)
        try await levelUp(store, "u5")
        let after = contents(store)
        store.close()

        store = try StateStore<GrowthState>(directory: directory, logger: logger)
        #expect(contents(store) == after)
        #expect(store.read { $0.webhooks.pendingCount } == 4 && store.read { $0.webhooks.deadLetterCount } == 1)
        store.close()
    }
}
