import FeedbackCore
import Foundation
import Logging
import RetainMoves
import RetainProto
import RetainState
import Testing

/// A Feedback user moved to another shard (the shard's side of online resharding,
/// docs/CLUSTER.md): the user's items answer there as here (ids, history, timeline, comments,
/// compensation, FAQ membership), the two shards' reports add up to the one shard's before, a
/// copy made twice is one copy, and the source refuses the moved items as moved, also after a
/// restart.
@Suite("Feedback users moved between shards")
struct FeedbackUserMoveTests {
    /// The users of the populated desk that move: about a third, and every FAQ question's user.
    static func moves(_ user: String) -> Bool { user.hasPrefix("q") ? user != "q3" : (Int(user.dropFirst()) ?? 1) % 3 == 0 }

    static func log(_ moves: UserMoves<Retain_V1_FeedbackUserRecord>) -> Retain_V1_FeedbackLogEntry {
        Retain_V1_FeedbackLogEntry(usersMoved: Retain_V1_UsersMoved(moves, userID: FeedbackState.userID(of:)))
    }

    /// Items, FAQ ask counts by group, open counts and submissions of a set of shards, summed.
    static func reports(_ shards: [FeedbackState], nowMs: Int64) throws -> [String] {
        var items: [String: String] = [:]
        var asks: [String: UInt32] = [:]
        var open: UInt64 = 0
        var overdue: UInt64 = 0
        var resolved: UInt64 = 0
        var total: UInt64 = 0
        for shard in shards {
            let listed = try shard.list(.init(sort: .oldest, page: .init(pageSize: 1000)), nowMs: nowMs)
            total += listed.pageInfo?.total ?? 0
            for item in listed.items {
                #expect(items[item.itemId] == nil, "item \(item.itemId) on two shards")
                items[item.itemId] = "\(try shard.item(item.itemId, nowMs: nowMs))"
            }
            for entry in try shard.faqPage(.init(page: .init(pageSize: 1000))).entries { asks[entry.groupId, default: 0] += entry.askCount }
            let stats = shard.stats(.init(range: .init(startMs: 1, endMs: nowMs + 1)), nowMs: nowMs)
            open += stats.openTotal
            overdue += stats.overdueTotal
            resolved += stats.resolvedCount
        }
        return [
            "\(items.sorted { $0.key < $1.key })", "\(asks.sorted { $0.key < $1.key })",
            "total \(total) open \(open) overdue \(overdue) resolved \(resolved)",
        ]
    }

    @Test("moved users' items answer on the new shard as on the old; reports add up the same; the source refuses them as moved")
    func moved() throws {
        let desk = try PersistenceTests.desk()
        let original = desk.state
        let before = try Self.reports([original], nowMs: desk.now)
        let moving = original.movableUserIDs.filter(Self.moves)
        #expect(moving.count > 4 && moving.count < original.movableUserIDs.count - 4)

        var source = original
        var target = FeedbackState()
        let records = moving.compactMap { original.userRecord($0) }
        #expect(records.count == moving.count)
        #expect(records.contains { !$0.faqGroups.isEmpty }, "FAQ members move")
        try target.apply(Self.log(UserMoves(imported: records, ringVersion: 2)))
        for record in records {
            #expect(target.userRecord(record.userId).map(FeedbackState.checksum) == FeedbackState.checksum(record), "\(record.userId)")
            #expect(target.userRecord(record.userId) == record)
        }
        // A copy made twice is one copy.
        try target.apply(Self.log(UserMoves(imported: records, ringVersion: 2)))
        #expect(target.itemCount == records.map(\.items.count).reduce(0, +))

        try source.apply(Self.log(UserMoves(fenced: moving, ringVersion: 2)))
        let movedItem = try #require(records.first?.items.first?.submitted?.itemId)
        #expect(throws: UserMoveError.moved(userID: records[0].userId)) { try source.refuseIfItemMoved(movedItem) }
        try source.apply(Self.log(UserMoves(dropped: moving)))
        #expect(source.movableUserIDs == original.movableUserIDs.filter { !Self.moves($0) })
        #expect(throws: UserMoveError.moved(userID: records[0].userId)) { try source.refuseIfItemMoved(movedItem) }
        #expect(try Self.reports([source, target], nowMs: desk.now) == before)
        for record in records {
            for item in record.items {
                let id = item.submitted!.itemId
                #expect(try target.item(id, nowMs: desk.now) == original.item(id, nowMs: desk.now))
                #expect(
                    try target.item(id, forUser: record.userId, nowMs: desk.now).timeline
                        == original.item(id, forUser: record.userId, nowMs: desk.now).timeline)
            }
        }
        // A retried submission of a moved user is recognised on the new shard.
        let first = try #require(records.first?.items.first?.submitted?.request)
        #expect(target.priorSubmission(user: first.userId, requestID: first.requestId) != nil)
    }

    @Test(
        "a moved user comes back by a copy for a newer ring (a rolled-back reshard): its items answer here again; an abandoned copy is discarded"
    )
    func comesBack() throws {
        let desk = try PersistenceTests.desk()
        let moving = desk.state.movableUserIDs.filter(Self.moves)
        let records = moving.compactMap { desk.state.userRecord($0) }
        var source = desk.state
        var target = FeedbackState()
        try target.apply(Self.log(UserMoves(imported: records, ringVersion: 2)))
        try source.apply(Self.log(UserMoves(fenced: moving, ringVersion: 2)))
        try source.apply(Self.log(UserMoves(dropped: moving)))
        let item = try #require(records.first?.items.first?.submitted?.itemId)
        #expect(throws: UserMoveError.moved(userID: records[0].userId)) { try source.refuseIfItemMoved(item) }
        // A copy for the ring it left by is refused; one for a newer ring brings it back.
        #expect(throws: UserMoveError.self) { try source.apply(Self.log(UserMoves(imported: records, ringVersion: 2))) }
        try target.apply(Self.log(UserMoves(fenced: moving, ringVersion: 3)))
        try source.apply(Self.log(UserMoves(imported: records, ringVersion: 3)))
        try source.refuseIfItemMoved(item)
        try source.refuseIfMoved(records[0].userId)
        // The lists, the FAQ and the statistics as before the move, and each returning item.
        #expect(try Self.reports([source], nowMs: desk.now) == Self.reports([desk.state], nowMs: desk.now))
        for record in records {
            for item in record.items {
                let id = item.submitted!.itemId
                #expect(try source.item(id, nowMs: desk.now) == desk.state.item(id, nowMs: desk.now))
            }
        }
        // Copies a shard does not serve are discarded (not fenced there): gone, and its reports
        // are right for the ring before the abandoned one again.
        var other = FeedbackState()
        try other.apply(Self.log(UserMoves(imported: records, ringVersion: 4)))
        #expect(throws: UserMoveError.self) { try other.refuseReport(ringVersion: 3) }
        try other.apply(Self.log(UserMoves(ringVersion: 4, discarded: moving)))
        #expect(other.movableUserIDs.isEmpty)
        try other.refuseReport(ringVersion: 3)
        #expect(throws: UserMoveError.self, "a fenced user is dropped, not discarded") {
            try target.apply(Self.log(UserMoves(ringVersion: 4, discarded: moving)))
        }
    }

    @Test("a copy whose item id is another user's item here is refused, and changes nothing")
    func collision() throws {
        let desk = try PersistenceTests.desk()
        let user = try #require(desk.state.movableUserIDs.first)
        var record = try #require(desk.state.userRecord(user))
        record.userId = "someone-else"
        for index in record.items.indices { record.items[index].submitted?.request?.userId = "someone-else" }
        var state = desk.state
        #expect(throws: UserMoveError.self) { try state.apply(Self.log(UserMoves(imported: [record], ringVersion: 2))) }
        #expect(try PersistenceTests.view(state, nowMs: desk.now) == PersistenceTests.view(desk.state, nowMs: desk.now))
    }

    @Test("fences, drops and copies survive a restart, through the log and through a snapshot")
    func recovery() async throws {
        let desk = try PersistenceTests.desk()
        let moving = desk.state.movableUserIDs.filter(Self.moves)
        let copy = try #require(desk.state.userRecord(moving[0]))
        var entries = desk.log
        entries.append(Self.log(UserMoves(fenced: moving, ringVersion: 2)))
        entries.append(Self.log(UserMoves(dropped: Array(moving.dropFirst()))))
        var expected = FeedbackState()
        for entry in entries { try expected.apply(entry) }
        var other = FeedbackState()
        try other.apply(Self.log(UserMoves(imported: [copy], ringVersion: 3)))
        let movedItem = try #require(desk.state.userRecord(moving[1])?.items.first?.submitted?.itemId)

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("feedback-moves-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let logger = Logger(label: "test")
        func check(_ store: StateStore<FeedbackState>) throws {
            #expect(try store.read { try PersistenceTests.view($0, nowMs: desk.now) } == PersistenceTests.view(expected, nowMs: desk.now))
            #expect(store.read { $0.fences } == expected.fences)
            #expect(store.read { $0.fences.fenced } == Set(moving))
            #expect(throws: UserMoveError.moved(userID: moving[1])) { try store.read { try $0.refuseIfItemMoved(movedItem) } }
            #expect(throws: UserMoveError.self) { try store.read { try $0.refuseReport(ringVersion: 1) } }
        }
        do {
            let store = try StateStore<FeedbackState>(directory: directory, logger: logger)
            for entry in entries { _ = try await store.writeDurably { try $0.log(entry) } }
            store.close()
        }
        do {
            let store = try StateStore<FeedbackState>(directory: directory, logger: logger)
            try check(store)
            #expect(try store.snapshot() != nil)
            store.close()
        }
        let store = try StateStore<FeedbackState>(directory: directory, logger: logger)
        try check(store)
        store.close()
        _ = other
    }
}
