import Foundation
import Logging
@testable import ProfileCore
import RetainMoves
import RetainProto
import RetainState
import Testing

/// A Profile user's whole state as one record (online resharding, docs/CLUSTER.md): exported,
/// imported on another shard (another symbol table), removed at the source, with the reports
/// summed over both shards unchanged.
@Suite("Profile users move between shards")
struct ProfileUserMoveTests {
    static let users = (0..<12).map { "m\($0)" }

    /// A shard with a dozen users: channels, tags, attributes, purchases, event facts, a
    /// deleted user.
    static func source() throws -> ProfileFixture {
        var fixture = ProfileFixture()
        for (index, user) in users.enumerated() {
            try fixture.register(
                user, at: monday + Int64(index % 4) * day, channel: index % 2 == 0 ? "ads" : "organic",
                tags: index % 3 == 0 ? ["vip", "beta"] : ["beta"], attributes: ["group": "g\(index % 4)", "plan": "p\(index % 2)"])
            try fixture.active(user, days: (1..<(8 + index)).filter { ($0 + index) % 3 != 0 })
            var purchase = fixture.event(user, at: monday + 5 * day, kind: "purchase", value: 300 + Int64(index))
            purchase.eventId = "p-\(user)"
            purchase.source = "app"
            purchase.properties = ["screen": "cart", "coupon": "c\(index)"]
            try fixture.record([purchase])
        }
        try fixture.state.apply(
            try #require(
                { () throws -> Retain_V1_ProfileLogEntry? in
                    if case .delete(let entry) = try fixture.state.planDeletion(
                        userID: "m5", reason: "asked", actor: "support", now: monday + 20 * day)
                    {
                        return entry
                    }
                    return nil
                }()))
        return fixture
    }

    /// The reports a move must leave the same (summed over the shards).
    static func reports(_ states: [ProfileState]) throws -> [String] {
        let evaluator = LifecycleEvaluator(rules: LifecycleRules())
        let asOf = monday + 30 * day
        var lines: [String] = []
        for filter in [Retain_V1_SegmentFilter(), .init(channels: ["ads"]), .init(tagsAll: ["vip"])] {
            lines.append("count \(states.map { $0.countSegment(filter, asOf: asOf, evaluator: evaluator) }.reduce(0, +))")
        }
        var daily: [String: UInt64] = [:]
        var funnel: [String: UInt64] = [:]
        var retention: [String: UInt64] = [:]
        for state in states {
            let answer = try state.activeUsers(
                Retain_V1_GetActiveUsersRequest(range: .init(startMs: monday, endMs: monday + 25 * day), byChannel: true, asOfMs: asOf),
                asOf: asOf)
            for point in answer.days {
                daily["\(point.dayStartMs) \(point.allChannels) \(point.channel)", default: 0] +=
                    point.dau * 1_000_000 + point.wau * 1000 + point.mau
            }
            let rows = try state.funnel(
                Retain_V1_GetFunnelRequest(
                    granularity: .day, registered: .init(startMs: monday, endMs: asOf), byChannel: true, asOfMs: asOf),
                asOf: asOf)
            for row in rows.rows {
                funnel["\(row.cohortStartMs) \(row.allChannels) \(row.channel)", default: 0] +=
                    row.registered * 1_000_000 + row.activated * 1000 + row.purchased
            }
            let cohorts = try state.retention(
                Retain_V1_GetRetentionRequest(
                    granularity: .day, registered: .init(startMs: monday, endMs: monday + 5 * day), byChannel: true, days: [1, 3, 7],
                    asOfMs: asOf), days: [1, 3, 7], asOf: asOf)
            for cohort in cohorts.cohorts {
                retention["\(cohort.cohortStartMs) \(cohort.channel) size", default: 0] += cohort.newUsers
                for cell in cohort.cells { retention["\(cohort.cohortStartMs) \(cohort.channel) \(cell.day)", default: 0] += cell.retained }
            }
        }
        lines.append("active \(daily.sorted { $0.key < $1.key })")
        lines.append("funnel \(funnel.sorted { $0.key < $1.key })")
        lines.append("retention \(retention.filter { $0.value > 0 }.sorted { $0.key < $1.key })")
        return lines
    }

    @Test("a record copied to a shard with another symbol table holds the same state: same bytes, same checksum")
    func roundTrip() throws {
        let source = try Self.source()
        var target = ProfileFixture()
        try target.register("other", channel: "social", tags: ["zzz", "beta"], attributes: ["plan": "x", "aaa": "y"])
        let records = Self.users.compactMap { source.state.userRecord($0) }
        #expect(records.count == Self.users.count)
        #expect(records.allSatisfy { !$0.eventKeys.isEmpty && !$0.eventKeysIncomplete })
        #expect(records.contains { !$0.eventFacts.isEmpty })
        try target.state.applyMoves(UserMoves(imported: records, ringVersion: 2))
        for record in records {
            let copy = try #require(target.state.userRecord(record.userId))
            #expect(ProtoCodec.encode(copy) == ProtoCodec.encode(record), "\(record.userId)")
            #expect(ProfileState.checksum(copy) == ProfileState.checksum(record))
        }
        // A copy made twice is one copy.
        try target.state.applyMoves(UserMoves(imported: records, ringVersion: 2))
        #expect(target.state.movableUserIDs == (Self.users + ["other"]).sorted())
        // The events travelled with their keys: sent again, they are duplicates.
        let again = Retain_V1_ActivityEvent(userId: "m3", eventId: "p-m3", kind: "login", occurredAtMs: monday + day)
        #expect(source.state.userRecord("m3")!.eventKeys.contains(EventIDSet.key(userID: "m3", eventID: "p-m3")))
        #expect(try target.record([again]).duplicateCount == 1)
        // The profile reads the same.
        let evaluator = LifecycleEvaluator(rules: LifecycleRules())
        for user in ["m0", "m3", "m7"] {
            var mine = source.state.profile(source.state.userIndex(user)!, now: monday + 30 * day, evaluator: evaluator)
            var theirs = target.state.profile(target.state.userIndex(user)!, now: monday + 30 * day, evaluator: evaluator)
            mine.tags.sort()
            theirs.tags.sort()
            #expect(mine == theirs)
        }
    }

    @Test("moving a third of the users leaves every report summed over the two shards as it was, and the source refuses them")
    func reportsUnchanged() throws {
        var source = try Self.source()
        let before = try Self.reports([source.state])
        var target = ProfileFixture()
        let moving = ["m0", "m3", "m5", "m6", "m10"]
        try target.state.applyMoves(UserMoves(imported: moving.compactMap { source.state.userRecord($0) }, ringVersion: 2))
        try source.state.applyMoves(UserMoves(fenced: moving, ringVersion: 2))
        #expect(throws: UserMoveError.moved(userID: "m3")) { try source.state.refuseIfMoved("m3") }
        #expect(throws: UserMoveError.self) { try source.state.refuseReport(ringVersion: 2) }
        try source.state.applyMoves(UserMoves(dropped: moving))
        #expect(!source.state.holdsUser("m3") && source.state.userRecord("m3") == nil)
        #expect(source.state.movableUserIDs == Self.users.filter { !moving.contains($0) }.sorted())
        #expect(try Self.reports([source.state, target.state]) == before)
        try source.state.refuseReport(ringVersion: 2)
        try target.state.refuseReport(ringVersion: 2)
        #expect(throws: UserMoveError.self) { try target.state.refuseReport(ringVersion: 1) }
        // A copy of a user that moved away is refused at its old shard.
        #expect(throws: UserMoveError.self) {
            try source.state.applyMoves(UserMoves(imported: [target.state.userRecord("m3")!]))
        }
        _ = try source.record([source.event("m4", at: monday + 9 * day)])
    }

    @Test("the checksum changes when any part of the record changes")
    func checksumCoversEveryPart() throws {
        let source = try Self.source()
        let record = try #require(source.state.userRecord("m2"))
        let original = ProfileState.checksum(record)
        var changes: [(String, (inout Retain_V1_ProfileUserRecord) -> Void)] = [
            ("symbols", { $0.symbols[1] += "x" }),
            ("packed", { $0.packed[20] ^= 1 }),
            ("event keys", { $0.eventKeys.append(7) }),
            ("completeness", { $0.eventKeysIncomplete = true }),
            ("contacts", { $0.contacts.append(Retain_V1_ProfileContactRecord(contactId: "c1", sentAtMs: 5)) }),
            ("event fact property", { $0.eventFacts[0].properties["screen"] = "home" }),
            ("event fact", { $0.eventFacts[0].occurredAtMs += 1 }),
            ("assignment", { $0.assignments.append(Retain_V1_ProfileMovedAssignment(experimentId: "x", variant: "a")) }),
            (
                "membership",
                { $0.memberships.append(Retain_V1_ProfileMovedMembership(campaign: Retain_V1_Campaign(campaignId: "c"), touches: 1)) }
            ),
            ("churn episode", { $0.churnEpisodeSinceMs = 9 }),
        ]
        changes.append(("user", { $0.userId = "m22" }))
        for (part, change) in changes {
            var changed = record
            change(&changed)
            #expect(ProfileState.checksum(changed) != original, "\(part)")
        }
        // Property order does not matter.
        var reordered = record
        reordered.eventFacts[0].properties = Dictionary(
            uniqueKeysWithValues: record.eventFacts[0].properties.reversed().map { ($0.key, $0.value) })
        #expect(ProfileState.checksum(reordered) == original)
    }

    @Test("a record that does not decode is refused and changes nothing")
    func malformed() throws {
        var target = ProfileFixture()
        try target.register("t0")
        var record = try #require(try Self.source().state.userRecord("m1"))
        record.packed.removeLast(3)
        #expect(throws: UserMoveError.self) { try target.state.applyMoves(UserMoves(imported: [record])) }
        #expect(target.state.movableUserIDs == ["t0"])
    }

    /// What a reopened store must hold again: each user's record (with its checksum), the
    /// fences and the reports.
    static func observe(_ state: borrowing ProfileState) throws -> [String] {
        var lines = state.movableUserIDs.map { id in "\(id) \(ProfileState.checksum(state.userRecord(id)!))" }
        lines.append("fenced \(state.fences.fenced.sorted()) v\(state.fences.fenceVersion) \(state.fences.droppedSinceFence)")
        lines.append("imported v\(state.fences.importedVersion) events \(state.eventCount)")
        return lines + (try reports([copy state]))
    }

    @Test("copies, fences and drops are logged: a store reopened from its log and from a snapshot holds the same users, fences and reports")
    func survivesReopening() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("profile-moves-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let logger = Logger(label: "profile-test")
        let source = try Self.source()
        let records = ["m1", "m2", "m5", "m8"].compactMap { source.state.userRecord($0) }
        var expected: [String] = []
        do {
            let store = try StateStore<ProfileState>(directory: directory, logger: logger)
            for user in ["local0", "local1"] {
                let request = Retain_V1_RegisterUserRequest(userId: user, channel: "organic", registeredAtMs: monday)
                if case .register(let entry) = try store.read({ try $0.planRegistration(request, now: monday, generateID: { "" }) }) {
                    _ = try await store.writeDurably { try $0.log(entry) }
                }
            }
            for change in [
                UserMoves<Retain_V1_ProfileUserRecord>(imported: records, ringVersion: 3),
                UserMoves(fenced: ["m2", "local1"], ringVersion: 4), UserMoves(dropped: ["m2"]),
            ] {
                _ = try await store.writeDurably {
                    try $0.log(Retain_V1_ProfileLogEntry(usersMoved: Retain_V1_UsersMoved(change, userID: ProfileState.userID(of:))))
                }
            }
            expected = try store.read { try Self.observe($0) }
            #expect(expected.first { $0.hasPrefix("m2 ") } == nil && expected.contains { $0.hasPrefix("m8 ") })
            store.close()
        }
        do {
            let reopened = try StateStore<ProfileState>(directory: directory, logger: logger)
            #expect(try reopened.read { try Self.observe($0) } == expected, "from the log")
            #expect(try reopened.snapshot() != nil)
            reopened.close()
        }
        let fromSnapshot = try StateStore<ProfileState>(directory: directory, logger: logger)
        #expect(try fromSnapshot.read { try Self.observe($0) } == expected, "from the snapshot")
        #expect(fromSnapshot.read { $0.unlistedEventKeyUsers } == 0)
        #expect(throws: UserMoveError.moved(userID: "local1")) { try fromSnapshot.read { try $0.refuseIfMoved("local1") } }
        fromSnapshot.close()
    }
}
