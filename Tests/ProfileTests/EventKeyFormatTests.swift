import Foundation
import Logging
@testable import ProfileCore
import RetainProto
import RetainState
import Testing

/// The duplicate-event set is keyed by (user id, event id), the same on every shard, so that a
/// user's recorded events can move with the user (docs/CLUSTER.md). A data directory written
/// before (`Fixtures/event-keys-by-index`: a snapshot with the hashes of (user index, event id),
/// made by the previous `retain-profile` for users old-a, old-b, old-c and events old-a/e1,
/// old-a/e2, old-b/e1, old-c/e9) still recovers: its hashes are kept as the legacy set and still
/// recognise those events, through later snapshots too.
@Suite("duplicate-event set keyed by user id, and the older format")
struct EventKeyFormatTests {
    let logger = Logger(label: "profile-test")
    let at: Int64 = 1_735_800_000_000

    func copyFixture() throws -> String {
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/event-keys-by-index")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("profile-old-events-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for name in try FileManager.default.contentsOfDirectory(atPath: fixture.path) {
            try FileManager.default.copyItem(at: fixture.appendingPathComponent(name), to: directory.appendingPathComponent(name))
        }
        return directory.path
    }

    func event(_ user: String, _ id: String) -> Retain_V1_ActivityEvent {
        Retain_V1_ActivityEvent(userId: user, eventId: id, kind: "login", occurredAtMs: at)
    }

    func isDuplicate(_ store: StateStore<ProfileState>, _ user: String, _ id: String) throws -> Bool {
        if case .duplicate = try store.read({ try $0.planActivity(event(user, id), now: at) }) { return true }
        return false
    }

    @Test("an old-format data directory recovers: its events stay duplicates, new ones are keyed by user id, through a new snapshot")
    func oldFormat() async throws {
        let directory = try copyFixture()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let old = [("old-a", "e1"), ("old-a", "e2"), ("old-b", "e1"), ("old-c", "e9")]
        do {
            let store = try StateStore<ProfileState>(directory: directory, logger: logger)
            #expect(store.read { $0.userCount } == 3)
            #expect(store.read { $0.eventCount } == 4)
            #expect(store.read { $0.legacyEventIDs.count } == 4, "the older hashes are the legacy set")
            for (user, id) in old { #expect(try isDuplicate(store, user, id), "\(user)/\(id)") }
            #expect(try !isDuplicate(store, "old-b", "e2"))
            let batch = ProfileState.prepareActivities([event("old-b", "e2"), event("old-a", "e1")], invalid: [:], now: at).entry!
            _ = try await store.writeDurably { try $0.log(batch) }
            #expect(store.read { $0.appliedOutcomes } == [.accepted, .duplicate])
            // A new key goes to its user's list only: the shard-wide set keeps what it held.
            #expect(store.read { $0.eventIDs.count } == 0 && store.read { $0.onlyListedEventKeys } == 1)
            #expect(try store.snapshot() != nil)
            store.close()
        }
        let store = try StateStore<ProfileState>(directory: directory, logger: logger)
        #expect(store.read { $0.eventCount } == 5)
        #expect(store.read { $0.legacyEventIDs.count } == 4 && store.read { $0.eventIDs.count } == 0)
        #expect(store.read { $0.onlyListedEventKeys } == 1)
        for (user, id) in old + [("old-b", "e2")] { #expect(try isDuplicate(store, user, id), "\(user)/\(id)") }
        store.close()
    }

    @Test("the same events give the same hashes on shards that number their users differently")
    func sameOnEveryShard() throws {
        func state(_ order: [String]) throws -> ProfileState {
            var state = ProfileState()
            for user in order {
                let request = Retain_V1_RegisterUserRequest(userId: user, channel: "organic", registeredAtMs: at - 86_400_000)
                if case .register(let entry) = try state.planRegistration(request, now: at, generateID: { "" }) { try state.apply(entry) }
            }
            try state.apply(ProfileState.prepareActivities([event("y", "e1"), event("y", "e2")], invalid: [:], now: at).entry!)
            return state
        }
        let one = try state(["x", "y"])
        let two = try state(["y", "x", "z"])
        #expect(one.userIndex("y") != two.userIndex("y"))
        let keysOne = one.users[Int(one.userIndex("y")!)].eventKeys
        let keysTwo = two.users[Int(two.userIndex("y")!)].eventKeys
        #expect(
            keysOne == keysTwo && keysOne.keys == [EventIDSet.key(userID: "y", eventID: "e1"), EventIDSet.key(userID: "y", eventID: "e2")])
        #expect(one.eventIDs.count == 0 && one.legacyEventIDs.count == 0 && one.eventCount == 2)
    }
}
