import Foundation
@testable import GrowthCore
import Logging
import RetainProto
import RetainState
import Testing

/// The pieces of a restore that run on other threads (the leaderboards sorted in runs, the
/// user index built apart) give what building them one step at a time gives.
@Suite("snapshot restore")
struct SnapshotRestoreTests {
    let logger = Logger(label: "test")

    @Test("keys added in any order come out sorted, whether they fill no run, one or many sorted on other threads")
    func sortedKeyRuns() {
        var random = SystemRandomNumberGenerator()
        for (count, runLength) in [(0, 4), (3, 4), (4, 4), (1_234, 50), (2_000, 1)] {
            var keys: [LeaderboardKey] = []
            for index in 0..<count {
                // Few scores and times, so that ties fall to the later fields.
                keys.append(
                    LeaderboardKey(
                        score: Int64.random(in: 1...20, using: &random), reachedAtMs: Int64.random(in: 0...3, using: &random),
                        userID: "u\(index)"))
            }
            var runs = SortedKeyRuns(runLength: runLength)
            for key in keys { runs.append(key) }
            #expect(runs.count == count)
            #expect(runs.sorted() == keys.sorted(), "\(count) keys in runs of \(runLength)")
        }
    }

    @Test("an index built apart finds every user, and the table then removes, adds and grows like one built user by user")
    func userIndexBuiltApart() {
        var random = SystemRandomNumberGenerator()
        for count in [0, 1, 6, 7, 2_500] {
            var table = UserTable()
            var model: [String: Int64] = [:]
            for index in 0..<count {
                var user = UserGrowth()
                user.total = Int64(index)
                table.appendUnindexed(new: "user-\(index)", user)
                model["user-\(index)"] = Int64(index)
            }
            table.setIndex(UserTable.index(of: table.userIDs))
            #expect(table.count == count)
            for (userID, total) in model { #expect(table[userID]?.total == total) }
            #expect(table["user-\(count)"] == nil && table[""] == nil)
            for step in 0..<3_000 {
                let userID = "user-\(Int.random(in: 0..<(count + 500), using: &random))"
                if step % 3 == 0 {
                    #expect(table.remove(userID)?.total == model.removeValue(forKey: userID))
                } else {
                    var user = table.take(userID)
                    #expect(user.total == model[userID] ?? 0)
                    user.total += 1
                    table.put(userID, user)
                    model[userID, default: 0] += 1
                }
            }
            #expect(table.count == model.count)
            for (userID, total) in model { #expect(table[userID]?.total == total) }
        }
    }

    /// Every row of the overall board and of each weekly board, with its rank.
    func boards(_ state: borrowing GrowthState) -> [String] {
        var rows = ["overall \(state.overall.top(state.overall.count).map { "\($0.rank) \($0.key)" })"]
        for week in state.weekly.keys.sorted() {
            let board = state.weekly[week]!
            rows.append("week \(week) \(board.top(board.count).map { "\($0.rank) \($0.key)" })")
        }
        return rows
    }

    @Test(
        "a snapshot's users, decoded on one thread or two, indexed apart, and its boards, sorted in runs on other threads, equal the state's before"
    )
    func restoredBoardsAndUsers() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("growth-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let weekOne = utc(2025, 3, 4, 10)
        let weekTwo = weekOne + 7 * dayMs
        var before: [String] = []
        var users: [Retain_V1_GrowthUserRecord] = []
        do {
            let store = try StateStore<GrowthState>(directory: directory, logger: logger)
            // Growth in two weeks (two weekly boards), few distinct values (ties broken by time,
            // then by user id), and some users with no growth (on no board).
            for index in 0..<1_100 {
                let at = (index % 3 == 0 ? weekOne : weekTwo) + Int64(index % 4) * 1_000
                let request = Retain_V1_AwardGrowthRequest(
                    userId: "user-\(index)", action: "purchase", idempotencyKey: "k-\(index)", value: Int64(index % 7) * 100,
                    occurredAtMs: at)
                _ = try store.write { transaction in
                    if case .changed(let entry, _) = try transaction.state.planAward(request, at: at, now: at, rules: testRules) {
                        try transaction.log(entry)
                    }
                }
            }
            before = store.read { boards($0) }
            users = store.read { state in state.users.map { $0.user.record($0.userID) } }
            #expect(store.read { $0.weekly.count } == 2)
            #expect(store.read { $0.overall.count } > 800 && store.read { $0.overall.count } < 1_100)
            #expect(store.read { $0.userCount } > 4 * GrowthState.packedRunCount)
            #expect(try store.snapshot() != nil)
            store.close()
        }
        // Boards in runs of 16 or 2,000 keys; user runs all decoded by the restoring thread (0
        // ahead), on both threads (1), or mostly by the pipeline's (4).
        for (runLength, runsAhead) in [(16, 0), (16, 1), (2_000, 4), (16, 4)] {
            let store = try GrowthState.$boardRunLength.withValue(runLength) {
                try GrowthState.$userRunsAhead.withValue(runsAhead) {
                    try StateStore<GrowthState>(directory: directory, logger: logger)
                }
            }
            #expect(store.read { boards($0) } == before, "board runs of \(runLength), \(runsAhead) user runs ahead")
            #expect(store.read { state in state.users.map { $0.user.record($0.userID) } } == users)
            for user in users { #expect(store.read { $0.users[user.userId]?.total } == user.totalGrowth) }
            #expect(store.read { $0.users["user-1100"] } == nil)
            store.close()
        }
    }
}
