import Foundation
import Logging
@testable import ProfileCore
import RetainProto
import RetainState
import Testing

/// Each user's event keys are the duplicate-event check: a short list is scanned, a long one
/// indexed; either way a key is found, a new one added in order, and none is kept twice.
@Suite("event keys per user: the duplicate-event check")
struct EventKeyListTests {
    @Test("keys are found past the scanned length and through the index's growth, in the order recorded")
    func insertAndFind() {
        var generator = SystemRandomNumberGenerator()
        var list = EventKeyList()
        var inserted: [UInt64] = []
        for _ in 0..<2_000 {
            let key = generator.next() | 1
            let added = list.insert(key)
            #expect(added)
            inserted.append(key)
            if inserted.count % 97 == 0 || inserted.count == 33 || inserted.count == 49 {
                #expect(inserted.allSatisfy { list.contains($0) }, "\(inserted.count) keys")
                #expect(!list.contains(generator.next() | 1))
            }
        }
        #expect(list.keys == inserted && list.count == 2_000)
        // Every key again is a duplicate, at every size.
        var again = 0
        for key in inserted where list.insert(key) { again += 1 }
        #expect(again == 0 && list.count == 2_000)
        // A list made from the keys (a snapshot's, a moved user's) finds the same.
        let restored = EventKeyList(inserted)
        #expect(restored == list && inserted.allSatisfy { restored.contains($0) })
        var short = EventKeyList(Array(inserted.prefix(5)))
        #expect(short.contains(inserted[4]) && !short.contains(inserted[5]))
        let added = short.insert(inserted[5])
        #expect(added && short.count == 6)
    }

    @Test("a user with many events: each one again is a duplicate, the shard-wide set stays empty, through a snapshot")
    func heavyUserThroughSnapshot() async throws {
        let at: Int64 = 1_735_800_000_000
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("profile-event-keys-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        func event(_ user: String, _ id: Int) -> Retain_V1_ActivityEvent {
            Retain_V1_ActivityEvent(userId: user, eventId: "e\(id)", kind: "login", occurredAtMs: at)
        }
        let logger = Logger(label: "profile-test")
        do {
            let store = try StateStore<ProfileState>(directory: directory, logger: logger)
            for user in ["heavy", "light"] {
                let request = Retain_V1_RegisterUserRequest(userId: user, channel: "organic", registeredAtMs: at - 86_400_000)
                let plan = try store.read { try $0.planRegistration(request, now: at, generateID: { "" }) }
                guard case .register(let entry) = plan else {
                    Issue.record("not registered")
                    return
                }
                _ = try await store.writeDurably { try $0.log(entry) }
            }
            for start in stride(from: 0, to: 300, by: 100) {
                let events = (start..<start + 100).map { event("heavy", $0) } + [event("light", start)]
                _ = try await store.writeDurably { try $0.log(ProfileState.prepareActivities(events, invalid: [:], now: at).entry!) }
            }
            // The same events again, mixed with new ones: only the new are taken.
            let again = [event("heavy", 5), event("heavy", 299), event("heavy", 300), event("light", 0), event("light", 1)]
            _ = try await store.writeDurably { try $0.log(ProfileState.prepareActivities(again, invalid: [:], now: at).entry!) }
            #expect(store.read { $0.appliedOutcomes } == [.duplicate, .duplicate, .accepted, .duplicate, .accepted])
            #expect(store.read { $0.eventCount } == 305 && store.read { $0.eventIDs.count } == 0)
            #expect(try store.snapshot() != nil)
            store.close()
        }
        let store = try StateStore<ProfileState>(directory: directory, logger: logger)
        defer { store.close() }
        #expect(store.read { $0.eventCount } == 305)
        for (user, id) in [("heavy", 0), ("heavy", 150), ("heavy", 300), ("light", 200), ("light", 1)] {
            let plan = try store.read { try $0.planActivity(event(user, id), now: at) }
            guard case .duplicate = plan else {
                Issue.record("\(user)/e\(id) is not a duplicate after recovery")
                continue
            }
        }
        let fresh = try store.read { try $0.planActivity(event("heavy", 301), now: at) }
        guard case .accept = fresh else {
            Issue.record("a new event of the heavy user is taken for a duplicate")
            return
        }
    }
}
