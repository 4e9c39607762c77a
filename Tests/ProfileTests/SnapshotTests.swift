import Foundation
import Logging
@testable import ProfileCore
import RetainProto
import RetainState
import Testing

@Suite("snapshots and recovery")
struct SnapshotTests {
    let logger = Logger(label: "profile-test")

    /// Applies `entry` through the store (logged and durable).
    func log(_ store: StateStore<ProfileState>, _ entry: Retain_V1_ProfileLogEntry?) async throws {
        guard let entry else { return }
        _ = try await store.writeDurably { try $0.log(entry) }
    }

    /// Fills a store with every kind of record: users (one generated, one deleted), events in and
    /// out of the window, a contact touch, a policy, an experiment.
    func fill(_ store: StateStore<ProfileState>) async throws {
        for number in 0..<600 {
            let request = Retain_V1_RegisterUserRequest(
                userId: "user\(number)", channel: number % 2 == 0 ? "ads" : "organic", attributes: ["n": "\(number)"],
                tags: ["t\(number % 7)"], registeredAtMs: monday - 300 * day)
            if case .register(let entry) = try store.read({ try $0.planRegistration(request, now: monday, generateID: { "" }) }) {
                try await log(store, entry)
            }
        }
        let generated = Retain_V1_RegisterUserRequest(requestId: "key-1", channel: "organic")
        if case .register(let entry) = try store.read({ try $0.planRegistration(generated, now: monday, generateID: { "u_gen" }) }) {
            try await log(store, entry)
        }
        var events: [Retain_V1_ActivityEvent] = []
        for number in 0..<600 {
            for offset in [-290, -100, -3, 0] {
                events.append(
                    Retain_V1_ActivityEvent(
                        userId: "user\(number)", eventId: "e\(number)-\(offset)", kind: offset == 0 ? "purchase" : "login",
                        occurredAtMs: monday + Int64(offset) * day + Int64(number),
                        value: offset == 0 ? Retain_V1_Amount(value: 99, asset: "cash.usd") : nil))
            }
        }
        try await log(store, ProfileState.prepareActivities(events, invalid: [:], now: monday).entry)
        if case .delete(let entry) = try store.read({ try $0.planDeletion(userID: "user5", reason: "fraud", actor: "agent", now: monday) })
        {
            try await log(store, entry)
        }
        try await log(
            store,
            try store.read {
                try $0.planPolicyChange(
                    Retain_V1_ContactPolicy(maxPerDayTotal: 9), expectedVersion: 0,
                    actor: "ops", now: monday)
            })
        let touch = Retain_V1_RecordContactRequest(
            userId: "user1", contactId: "c-1", channel: .email, campaignId: "spring",
            sentAtMs: monday, check: false)
        if case .record(let entry, _) = try store.read({
            try $0.planContact(touch, policy: $0.contactPolicy(default: .init()), now: monday)
        }) {
            try await log(store, entry)
        }
        try await log(store, try store.read { try $0.experimentsEntry(["exp": [.init(name: "a", weight: 1)]], at: monday) })
        let assign = Retain_V1_AssignVariantRequest(userId: "user2", experimentId: "exp")
        try await log(store, try store.read { try $0.planAssignment(assign, now: monday).entry })
    }

    /// Everything a client can observe of the state.
    struct Observation: Equatable {
        var profiles: [Retain_V1_UserProfile] = []
        var summaries: [[UInt8]] = []
        var answers: [String] = []
    }

    /// Everything a client can observe of the state, as comparable values.
    func observe(_ state: borrowing ProfileState) throws -> Observation {
        let evaluator = LifecycleEvaluator(rules: LifecycleRules())
        var observation = Observation()
        for index in 0..<Int32(state.userCount) {
            observation.profiles.append(state.profile(index, now: monday + day, evaluator: evaluator, includeActivity: true))
            observation.summaries.append(state.user(index).activity.encoded())
        }
        var seen: [String] = []
        seen.append("\(state.contactPolicy(default: .init()))")
        seen.append("\(state.eventCount)")
        let duplicate = Retain_V1_ActivityEvent(userId: "user7", eventId: "e7--100", kind: "login", occurredAtMs: monday)
        seen.append("\(try state.planActivity(duplicate, now: monday))")
        let touch = Retain_V1_RecordContactRequest(
            userId: "user1", contactId: "c-1", channel: .email, campaignId: "spring",
            sentAtMs: monday, check: false)
        if case .answer(let answer) = try state.planContact(touch, policy: .init(), now: monday + day) {
            seen.append("\(answer)")
        } else {
            seen.append("contact not replayed")
        }
        let assign = Retain_V1_AssignVariantRequest(userId: "user2", experimentId: "exp")
        seen.append("\(try state.planAssignment(assign, now: monday + day).response)")
        seen.append("experiments \(state.experiments.mapValues { "\($0.definitionVersion) \($0.variants)" })")
        let generated = Retain_V1_RegisterUserRequest(requestId: "key-1", channel: "organic")
        if case .replay(let index) = try state.planRegistration(generated, now: monday, generateID: { "other" }) {
            seen.append("generated \(index)")
        }
        observation.answers = seen
        return observation
    }

    @Test(
        "a snapshot restores exactly the state it was taken from, and the log after it replays on top (format 2, and format 1 as written before it)",
        arguments: [UInt32(2), 1])
    func roundTrip(format: UInt32) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("profile-snap-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let before: Observation
        do {
            let store = try StateStore<ProfileState>(directory: directory, logger: logger)
            try await fill(store)
            let report = try ProfileState.$writtenSnapshotFormat.withValue(format) { try store.snapshot() }
            #expect(report != nil)
            let late = Retain_V1_RegisterUserRequest(userId: "after-snapshot", registeredAtMs: monday)
            if case .register(let entry) = try store.read({ try $0.planRegistration(late, now: monday, generateID: { "" }) }) {
                try await log(store, entry)
            }
            before = try store.read { try observe($0) }
            store.close()
        }
        let reopened = try StateStore<ProfileState>(directory: directory, logger: logger)
        let after = try reopened.read { try observe($0) }
        #expect(after.profiles.count == 602)
        #expect(zip(after.profiles, before.profiles).filter { $0 != $1 }.count == 0)
        #expect(zip(after.summaries, before.summaries).filter { $0 != $1 }.count == 0)
        #expect(after.answers == before.answers)
        #expect(after.answers.contains("duplicate"))
        #expect(after.answers.contains("generated 600"))
        #expect(reopened.read { $0.userIndex("after-snapshot") } != nil)
        reopened.close()
    }

    @Test("a corrupt user record in a snapshot is reported, not loaded")
    func malformedSummary() {
        #expect(ActivitySummary(encoded: [1, 2, 3]) == nil)
        var summary = ActivitySummary(registrationDay: 20_000)
        summary.record(day: 20_001, atMs: 20_001 * day, kind: 2)
        let decoded = ActivitySummary(encoded: summary.encoded())
        #expect(decoded?.encoded() == summary.encoded())
    }
}
