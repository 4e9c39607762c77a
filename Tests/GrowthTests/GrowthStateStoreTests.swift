import Foundation
@testable import GrowthCore
import Logging
import RetainMoves
import RetainProto
import RetainState
import Testing

@Suite("growth state on disk")
struct GrowthStateStoreTests {
    let logger = Logger(label: "growth-test")

    /// Applies a decision through the store, as the service does.
    func run<A: Sendable>(
        _ store: StateStore<GrowthState>,
        _ decide: (borrowing GrowthState) throws -> GrowthDecision<A>
    ) async throws -> A {
        try await store.writeDurably { transaction in
            let decision = try decide(transaction.state)
            if case .changed(let entry, _) = decision { try transaction.log(entry) }
            return decision.answer
        }
    }

    /// Everything a user sees, to compare before and after a reopen.
    func observe(_ store: StateStore<GrowthState>, at ms: Int64) -> [String] {
        store.read { state in
            var seen: [String] = []
            for user in ["alice", "bob", "carol"] {
                seen.append("\(state.view(userID: user, timeZone: "", at: ms, rules: testRules))")
                seen.append("\(state.summary(userID: user, startMs: 1, endMs: ms + dayMs, timeZone: "", rules: testRules))")
                seen.append("\(state.rank(userID: user, .weekly, neighbours: 3, at: ms, rules: testRules))")
            }
            seen.append("\(state.leaderboard(.overall, limit: 10, at: ms, rules: testRules))")
            seen.append("\(state.events(after: 0, upTo: .max, limit: 100))")
            seen.append(state.streamID)
            return seen
        }
    }

    func populate(_ store: StateStore<GrowthState>, from start: Int64) async throws {
        for day in 0..<9 {
            let at = start + Int64(day) * dayMs
            for (index, user) in ["alice", "bob", "carol"].enumerated() where (day + index) % 3 != 2 {
                _ = try await run(store) { $0.planCheckIn(userID: user, timeZone: "Europe/Paris", at: at, rules: testRules) }
                for action in ["login", "post", "post", "purchase"] {
                    let request = Retain_V1_AwardGrowthRequest(
                        userId: user, action: action, idempotencyKey: "\(day)-\(action)-\(index)-\(at)",
                        value: 4_200, occurredAtMs: at, timeZone: "Europe/Paris")
                    _ = try await run(store) { try $0.planAward(request, at: at, now: at, rules: testRules) }
                }
            }
            if day == 2 {
                let claim = Retain_V1_ClaimTaskRewardRequest(userId: "alice", taskId: "first_purchase", idempotencyKey: "claim-1")
                _ = try await run(store) { try $0.planClaim(claim, at: at, rules: testRules) }
            }
        }
    }

    @Test("users, boards, tasks, keys and events survive a reopen, through the log and through a snapshot")
    func survivesReopen() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("growth-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let start = utc(2025, 3, 6, 10)
        let end = start + 9 * dayMs
        let before: [String]
        do {
            let store = try StateStore<GrowthState>(directory: directory, logger: logger)
            _ = try await store.writeDurably { try $0.log(.init(streamStarted: .init(streamId: "stream-1", atMs: start))) }
            try await populate(store, from: start)
            before = observe(store, at: end)
            #expect(store.read { $0.headPosition } >= 3)
            store.close()
        }
        // Through the log alone.
        do {
            let store = try StateStore<GrowthState>(directory: directory, logger: logger)
            #expect(observe(store, at: end) == before)
            #expect(try store.snapshot() != nil)
            store.close()
        }
        // Through the snapshot, then the log after it.
        do {
            let store = try StateStore<GrowthState>(directory: directory, logger: logger)
            #expect(observe(store, at: end) == before)
            // A retry after the restart still answers the first answer.
            let retry = Retain_V1_AwardGrowthRequest(
                userId: "alice", action: "post", idempotencyKey: "0-post-0-\(start)",
                value: 4_200, occurredAtMs: start, timeZone: "Europe/Paris")
            let answer = try await run(store) { try $0.planAward(retry, at: start, now: end, rules: testRules) }
            #expect(answer.replayed)
            _ = try await run(store) { $0.planCheckIn(userID: "dave", timeZone: "", at: end, rules: testRules) }
            let after = observe(store, at: end)
            store.close()
            let reopened = try StateStore<GrowthState>(directory: directory, logger: logger)
            #expect(observe(reopened, at: end) == after)
            #expect(reopened.read { $0.userCount } == 4)
            reopened.close()
        }
    }

    @Test("moves survive a reopen, through the log and through a snapshot: copies stay, fenced users stay fenced and dropped")
    func movesSurviveReopen() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("growth-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let at = utc(2025, 3, 6, 10)
        var other = GrowthState()
        try other.award("copied", "post", key: "k", at: at)
        let copy = try #require(other.userRecord("copied"))
        func check(_ store: StateStore<GrowthState>) throws {
            #expect(store.read { $0.fences.fenced } == ["gone", "leaving"])
            #expect(store.read { $0.movableUserIDs } == ["copied", "leaving", "stays"])
            #expect(store.read { $0.userRecord("copied").map(GrowthState.checksum) } == GrowthState.checksum(copy))
            let award = Retain_V1_AwardGrowthRequest(userId: "gone", action: "post", idempotencyKey: "again", occurredAtMs: at)
            #expect(throws: GrowthError.move(.moved(userID: "gone"))) {
                try store.read { try $0.planAward(award, at: at, now: at, rules: testRules) }
            }
        }
        do {
            let store = try StateStore<GrowthState>(directory: directory, logger: logger)
            for user in ["gone", "leaving", "stays"] {
                _ = try await run(store) {
                    try $0.planAward(
                        .init(userId: user, action: "post", idempotencyKey: "k", occurredAtMs: at), at: at, now: at, rules: testRules)
                }
            }
            _ = try await store.writeDurably { try $0.log(.init(usersMoved: .init(imported: [copy], fenced: ["gone", "leaving"]))) }
            _ = try await store.writeDurably { try $0.log(.init(usersMoved: .init(dropped: ["gone"]))) }
            try check(store)
            store.close()
        }
        do {
            let store = try StateStore<GrowthState>(directory: directory, logger: logger)
            try check(store)
            #expect(try store.snapshot() != nil)
            store.close()
        }
        let store = try StateStore<GrowthState>(directory: directory, logger: logger)
        try check(store)
        store.close()
    }

    /// Every user's whole record, in the table's order.
    func records(_ store: StateStore<GrowthState>) -> [Retain_V1_GrowthUserRecord] {
        store.read { state in state.users.map { $0.user.record($0.userID) } }
    }

    @Test("a snapshot of format 1 (one protobuf record per user and per event) still loads; format 2 (packed runs) gives the same state")
    func snapshotFormats() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("growth-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let start = utc(2025, 3, 6, 10)
        let end = start + 9 * dayMs
        var before: [String] = []
        var users: [Retain_V1_GrowthUserRecord] = []
        do {
            let store = try StateStore<GrowthState>(directory: directory, logger: logger)
            _ = try await store.writeDurably { try $0.log(.init(streamStarted: .init(streamId: "stream-1", atMs: start))) }
            try await populate(store, from: start)
            // More users than one packed run holds, so that several runs are written and read.
            for index in 0..<(GrowthState.packedRunCount + 44) {
                let request = Retain_V1_AwardGrowthRequest(
                    userId: "user-\(index)", action: "purchase", idempotencyKey: "seed-\(index)", value: Int64(index * 37),
                    occurredAtMs: end)
                _ = try await run(store) { try $0.planAward(request, at: end, now: end, rules: testRules) }
            }
            before = observe(store, at: end)
            users = records(store)
            #expect(store.read { $0.userCount } > GrowthState.packedRunCount && store.read { $0.headPosition } > 3)
            let report = try GrowthState.$writtenSnapshotFormat.withValue(1) { try store.snapshot() }
            #expect(report != nil)
            store.close()
        }
        for format in [UInt32(1), 2] {
            let store = try StateStore<GrowthState>(directory: directory, logger: logger)
            #expect(store.read { $0.userCount } == users.count)
            #expect(records(store) == users, "after a snapshot of format \(format)")
            #expect(observe(store, at: end) == before, "after a snapshot of format \(format)")
            // One more write, so that the next snapshot covers more than this one.
            _ = try await run(store) {
                try $0.planAward(
                    .init(userId: "alice", action: "login", idempotencyKey: "f\(format)", occurredAtMs: end), at: end, now: end,
                    rules: testRules)
            }
            before = observe(store, at: end)
            users = records(store)
            #expect(try store.snapshot() != nil)
            store.close()
        }
        let store = try StateStore<GrowthState>(directory: directory, logger: logger)
        #expect(records(store) == users)
        #expect(observe(store, at: end) == before)
        store.close()
    }
}
