import Foundation
import Logging
@testable import ProfileCore
import ProfileService
import RetainProto
import RetainState
import RetainWebhooks
import Testing

@Suite("churn-warning webhooks")
struct ChurnWarningWebhookTests {
    let logger = Logger(label: "profile-test")
    let evaluator = LifecycleEvaluator(rules: LifecycleRules())

    func log(_ store: StateStore<ProfileState>, _ entry: Retain_V1_ProfileLogEntry) async throws {
        _ = try await store.writeDurably { try $0.log(entry) }
    }

    func register(_ store: StateStore<ProfileState>, _ id: String, channel: String = "ads") async throws {
        let request = Retain_V1_RegisterUserRequest(userId: id, channel: channel, registeredAtMs: monday)
        if case .register(let entry) = try store.read({ try $0.planRegistration(request, now: monday, generateID: { "" }) }) {
            try await log(store, entry)
        }
    }

    /// Logins on `days` (after `monday`, at noon), `perDay` each.
    func active(_ store: StateStore<ProfileState>, _ user: String, days: some Sequence<Int>, perDay: Int = 1) async throws {
        var events: [Retain_V1_ActivityEvent] = []
        for number in days {
            for index in 0..<perDay {
                events.append(
                    Retain_V1_ActivityEvent(
                        userId: user, eventId: "\(user)-\(number)-\(index)", kind: "login",
                        occurredAtMs: monday + Int64(number) * day + day / 2 + Int64(index) * 1000))
            }
        }
        if let entry = ProfileState.prepareActivities(events, invalid: [:], now: monday + 400 * day).entry { try await log(store, entry) }
    }

    func sweep(_ store: StateStore<ProfileState>, onDay number: Int) async throws -> (entered: Int, left: Int)? {
        try await ChurnWarningSweeper.sweep(store, now: monday + Int64(number) * day, evaluator: evaluator)
    }

    @Test(
        "a user entering the warning list is warned once per episode, across a snapshot and a replay, and again after coming back and dropping again"
    )
    func oncePerEpisode() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("profile-churn-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var store = try StateStore<ProfileState>(directory: directory, logger: logger)
        for (name, lastDays) in [("mild", [36, 37, 39, 40]), ("sharp", [40]), ("other", [38])] {
            try await register(store, name)
            try await active(store, name, days: 0..<35, perDay: 2)
            try await active(store, name, days: lastDays)
        }
        try await register(store, "fine")
        try await active(store, "fine", days: 0..<42, perDay: 2)

        // Nobody subscribes: no sweep, no episodes.
        #expect(try await sweep(store, onDay: 41) == nil)
        let request = Retain_V1_CreateSubscriptionRequest(
            service: "profile", url: "http://127.0.0.1:9/churn", eventTypes: ["churn_warning"], secret: "whsec_0123456789abcdef",
            subscriptionId: "crm")
        let plan = try store.read {
            try $0.webhooks.planSubscription(request, eventTypes: ProfileState.webhookEventTypes, id: "", secret: "", now: monday)
        }
        try await log(store, ProfileState.webhookEntry(plan.entry!))

        let first = try await sweep(store, onDay: 41)
        #expect(first?.entered == 3 && first?.left == 0)
        #expect(try await sweep(store, onDay: 41) == nil)
        let pending = store.read { $0.webhooks.pendingDeliveries(subscriptionID: "crm", limit: 10).deliveries }
        #expect(Set(pending.map(\.eventId)) == Set(["mild", "sharp", "other"].map { "churn_warning:\($0):\(monday + 41 * day)" }))
        let sharp = try #require(pending.first { $0.eventId.hasPrefix("churn_warning:sharp:") })
        let data = try #require(try JSONSerialization.jsonObject(with: Data(sharp.dataJson.utf8)) as? [String: Any])
        #expect(data["user_id"] as? String == "sharp" && data["channel"] as? String == "ads")
        #expect((data["reason"] as? String).map { ["activity_drop", "frequency_drop"].contains($0) } == true)
        #expect((data["drop"] as? Double ?? 0) > 0 && !(data["reason_text"] as? String ?? "").isEmpty)

        // A snapshot and a replay keep the episodes: nobody is warned twice.
        #expect(try store.snapshot() != nil)
        store.close()
        store = try StateStore<ProfileState>(directory: directory, logger: logger)
        #expect(store.read { $0.churnEpisodeCount } == 3)
        #expect(store.read { $0.webhooks.pendingCount } == 3)
        #expect(try await sweep(store, onDay: 42) == nil)

        // "sharp" comes back: the episode ends; dropping again later opens a new one, warned again.
        try await active(store, "sharp", days: 41..<60, perDay: 2)
        let back = try await sweep(store, onDay: 60)
        #expect(back?.left ?? 0 >= 1)
        #expect(store.read { $0.churnEpisodes["sharp"] } == nil)
        store.close()
        store = try StateStore<ProfileState>(directory: directory, logger: logger)
        #expect(store.read { $0.churnEpisodes["sharp"] } == nil)
        try await active(store, "sharp", days: [66])
        _ = try await sweep(store, onDay: 70)
        let warnedAgain = store.read { $0.webhooks.pendingDeliveries(subscriptionID: "crm", limit: 100).deliveries }
            .filter { $0.eventId.hasPrefix("churn_warning:sharp:") }
        #expect(warnedAgain.count == 2)
        store.close()
    }
}
