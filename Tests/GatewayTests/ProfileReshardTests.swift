import Foundation
import RetainCluster
import RetainEtcd
import RetainProcess
import RetainProto
import RetainRPC
import RetainWire
import Synchronization
import Testing

/// Online resharding of Profile end to end, real processes over TCP (docs/CLUSTER.md): etcd,
/// three Profile processes, a gateway routing Profile by the ring key, and `retain cluster
/// reshard --service profile` growing the ring from 2 to 3 shards while registrations and
/// activities keep coming through the gateway (and seeded events are sent again, which must
/// stay duplicates). The driver is SIGKILLed after the fence and run again; afterwards every
/// acknowledged user is on exactly one shard, its new owner, with every acknowledged event once,
/// the old owners refuse moved users, and the reports over the seeded users are the same as
/// before the reshard.
@Suite("Online resharding 2 -> 3 Profile shards under load", .serialized)
struct ProfileReshardTests {
    static let day: Int64 = 86_400_000
    /// The end of yesterday (UTC): the as-of time of every report (the load writes today).
    static let asOf = Int64(Date().timeIntervalSince1970 * 1000) / day * day - 1
    static let base = asOf + 1 - 20 * day
    static let users = (0..<120).map { String(format: "pr%03d", $0) }
    static let channels = ["organic", "ads"]

    static func registeredAt(_ index: Int) -> Int64 { base + Int64(index % 10) * day + Int64(index) * 1000 }

    /// The seeded events: logins and purchases over the days after registration; every fifth
    /// user goes quiet over the last week (churn warnings).
    static func seededEvents() -> [Retain_V1_ActivityEvent] {
        var events: [Retain_V1_ActivityEvent] = []
        for (index, user) in users.enumerated() {
            let last = 19 - index % 10
            for day in 1..<last where (day + index) % 3 != 0 {
                if index % 5 == 0, day > last - 8 { continue }
                let kind = day % 4 == 0 ? "purchase" : "login"
                events.append(
                    Retain_V1_ActivityEvent(
                        userId: user, eventId: "s-\(day)", kind: kind, occurredAtMs: registeredAt(index) + Int64(day) * Self.day,
                        value: kind == "purchase" ? Retain_V1_Amount(value: 500, asset: "cash.usd") : nil,
                        source: day % 2 == 0 ? "app" : "", properties: day % 2 == 0 ? ["screen": "home"] : [:]))
            }
        }
        return events
    }

    /// The load's record: each acknowledged user and the ids of its acknowledged events.
    final class Oracle: Sendable {
        struct State {
            var events: [String: Set<String>] = [:]
            var registered: [String] = []
            var retried = 0
            var duplicatesAccepted = 0
            var duplicatesSent = 0
            var stopped = false
            var countsSeen: [UInt64: Int] = [:]
            var reportsRefused = 0
            /// Writes still refused long after the load stopped.
            var stuck: [String] = []
        }
        let state = Mutex(State())
    }

    /// The seeded users' reports.
    static func reports(_ gateway: RPCClient) async throws -> [String] {
        var lines: [String] = []
        for filter in [
            Retain_V1_SegmentFilter(channels: channels), .init(channels: ["ads"]), .init(channels: channels, stages: [.churnRisk]),
            .init(channels: channels, stages: [.active]),
        ] {
            lines.append("count \(try await gateway.unary(Retain_V1_Profile.countSegment, .init(filter: filter, asOfMs: asOf)).count)")
        }
        let retention = try await gateway.unary(
            Retain_V1_Profile.getRetention,
            .init(
                granularity: .day, registered: .init(startMs: base, endMs: base + 10 * day), byChannel: true, days: [1, 3, 7], asOfMs: asOf)
        )
        lines.append("\(retention)")
        let active = try await gateway.unary(
            Retain_V1_Profile.getActiveUsers,
            .init(range: .init(startMs: base, endMs: asOf + 1), channels: channels, byChannel: true, asOfMs: asOf))
        lines.append("\(active)")
        var token = ""
        var warnings: [String] = []
        repeat {
            let page = try await gateway.unary(
                Retain_V1_Profile.listChurnWarnings,
                .init(page: .init(pageSize: 50, pageToken: token), channels: channels, asOfMs: asOf))
            warnings += page.warnings.map { "\($0.userId) \($0.reason.rawValue) \($0.drop)" }
            token = page.pageInfo?.nextPageToken ?? ""
        } while !token.isEmpty
        lines.append("churn \(warnings.sorted())")
        return lines
    }

    /// Registers users and records their activity through the gateway until stopped, sending a
    /// refused call again until it is acknowledged; now and then sends a seeded event again,
    /// which must be a duplicate.
    static func load(_ gateway: RPCClient, _ oracle: Oracle, worker: Int, seeded: [Retain_V1_ActivityEvent]) async {
        var sent = 0
        var mine: [String] = []
        var random = SystemRandomNumberGenerator()
        /// The call's answer once acknowledged; nil when it was still refused 20 s after the
        /// load stopped (counted: a write that can never be made again is a failure).
        func acknowledged<Response>(_ call: () async throws -> Response) async -> Response? {
            var stoppedAt: ContinuousClock.Instant?
            while true {
                do {
                    return try await call()
                } catch {
                    oracle.state.withLock { $0.retried += 1 }
                    if stoppedAt == nil, oracle.state.withLock({ $0.stopped }) { stoppedAt = .now }
                    if let stoppedAt, ContinuousClock.now - stoppedAt > .seconds(20) {
                        oracle.state.withLock { $0.stuck.append("\(error)") }
                        return nil
                    }
                    try? await Task.sleep(for: .milliseconds(10))
                }
            }
        }
        while !oracle.state.withLock({ $0.stopped }) {
            sent += 1
            let choice = Int.random(in: 0..<10, using: &random)
            if mine.isEmpty || choice < 3 {
                let user = "w\(worker)-u\(sent)"
                guard
                    await acknowledged({
                        try await gateway.unary(
                            Retain_V1_Profile.registerUser, .init(userId: user, channel: "load"),
                            options: CallOptions(timeout: .seconds(10)))
                    }) != nil
                else { continue }
                mine.append(user)
                oracle.state.withLock {
                    $0.registered.append(user)
                    $0.events[user] = []
                }
            } else if choice < 9 {
                let user = mine.randomElement(using: &random)!
                let event = "w-e\(sent)"
                guard
                    let answer = await acknowledged({
                        try await gateway.unary(
                            Retain_V1_Profile.recordActivity, .init(userId: user, eventId: event, kind: "login"),
                            options: CallOptions(timeout: .seconds(10)))
                    })
                else { continue }
                // A duplicate answers a retry whose first attempt was applied: once either way.
                if answer.outcome == .accepted || answer.outcome == .duplicate {
                    oracle.state.withLock { _ = $0.events[user, default: []].insert(event) }
                }
            } else {
                let event = seeded.randomElement(using: &random)!
                guard
                    let answer = await acknowledged({
                        try await gateway.unary(
                            Retain_V1_Profile.recordActivity,
                            .init(
                                userId: event.userId, eventId: event.eventId, kind: event.kind, occurredAtMs: event.occurredAtMs,
                                value: event.value),
                            options: CallOptions(timeout: .seconds(10)))
                    })
                else { continue }
                oracle.state.withLock {
                    $0.duplicatesSent += 1
                    if answer.outcome != .duplicate { $0.duplicatesAccepted += 1 }
                }
            }
        }
    }

    @Test(
        "2 -> 3 shards under registrations and activities, the driver killed after the fence and run again: every acknowledged write once, on its new owner; duplicates stay duplicates; reports unchanged"
    )
    func reshardUnderLoad() async throws {
        let harness = try await ReshardHarness(service: "profile")
        do {
            let oracle = Oracle()
            var ready = false
            for _ in 0..<200 where !ready {
                ready = (try? await harness.gateway.unary(Retain_V1_Profile.countSegment, .init())) != nil
                if !ready { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(ready)
            for (index, user) in Self.users.enumerated() {
                _ = try await harness.gateway.unary(
                    Retain_V1_Profile.registerUser,
                    .init(
                        userId: user, channel: Self.channels[index % 2], attributes: ["group": "g\(index % 4)"],
                        tags: index % 3 == 0 ? ["vip"] : [], registeredAtMs: Self.registeredAt(index)))
            }
            let seeded = Self.seededEvents()
            for start in stride(from: 0, to: seeded.count, by: 400) {
                let answer = try await harness.gateway.unary(
                    Retain_V1_Profile.recordActivities, .init(events: Array(seeded[start..<min(start + 400, seeded.count)])))
                #expect(answer.rejectedCount == 0)
            }
            for event in seeded { oracle.state.withLock { _ = $0.events[event.userId, default: []].insert(event.eventId) } }
            let before = try await Self.reports(harness.gateway)
            #expect(before[0] == "count \(Self.users.count)")
            #expect(before.last != "churn []", "the workload has churn warnings")

            let load = Task {
                await withTaskGroup(of: Void.self) { group in
                    for worker in 0..<2 {
                        group.addTask { await Self.load(harness.gateway, oracle, worker: worker, seeded: seeded) }
                    }
                    // A reader of a merged report: never a moved user counted twice or missing.
                    group.addTask {
                        while !oracle.state.withLock({ $0.stopped }) {
                            do {
                                let count = try await harness.gateway.unary(
                                    Retain_V1_Profile.countSegment, .init(filter: .init(channels: Self.channels), asOfMs: Self.asOf)
                                ).count
                                oracle.state.withLock { $0.countsSeen[count, default: 0] += 1 }
                            } catch {
                                oracle.state.withLock { $0.reportsRefused += 1 }
                            }
                        }
                    }
                }
            }
            try await Task.sleep(for: .milliseconds(500))
            let (killedOutput, output) = try await harness.addKillingDriverAfterFence("profile-2")
            try await Task.sleep(for: .milliseconds(500))
            oracle.state.withLock { $0.stopped = true }
            await load.value
            let seen = oracle.state.withLock { $0 }
            print(
                "profile reshard: seeded counts \(seen.countsSeen), \(seen.reportsRefused) refused; \(seen.registered.count) users registered, \(seen.events.values.map(\.count).reduce(0, +)) events acknowledged, \(seen.duplicatesSent) seeded events sent again, \(seen.retried) retried\n\(killedOutput)\n\(output)"
            )

            // Every user is on exactly one shard, its owner on the new ring, with each
            // acknowledged event once; a moved user is refused as moved at its old owner.
            let ring = HashRing(instanceIDs: ["profile-0", "profile-1", "profile-2"])
            let old = HashRing(instanceIDs: ["profile-0", "profile-1"])
            let shards = ["profile-0", "profile-1", "profile-2"]
            let clients = Dictionary(uniqueKeysWithValues: shards.map { ($0, harness.client($0)) })
            var held: [String: [String]] = [:]
            for shard in shards {
                var after = ""
                repeat {
                    let page = try await clients[shard]!.unary(Retain_V1_Resharding.listShardUsers, .init(afterUserId: after))
                    for user in page.userIds { held[user, default: []].append(shard) }
                    after = page.nextAfterUserId
                } while !after.isEmpty
            }
            #expect(Set(held.keys) == Set(seen.events.keys), "users on the shards are exactly the acknowledged ones")
            var moved = 0
            let seededUsers = Set(Self.users)
            for (user, events) in seen.events {
                let owner = "profile-\(ring.owner(of: user)!)"
                #expect(held[user] == [owner], "\(user)")
                let profile = try await clients[owner]!.unary(Retain_V1_Profile.getProfile, .init(userId: user, includeActivity: true))
                #expect(profile.profile?.activityCount == UInt64(events.count), "\(user): every acknowledged event once")
                let previous = "profile-\(old.owner(of: user)!)"
                if previous != owner {
                    moved += 1
                    // A user its old owner held (seeded) is refused there as moved; one registered
                    // during the move may never have been there (not found).
                    let refused = await ReshardTests.status {
                        _ = try await clients[previous]!.unary(Retain_V1_Profile.getProfile, .init(userId: user))
                    }
                    let movedAway = refused?.code == .unavailable && refused?.details["moved"] == "true"
                    #expect(
                        movedAway || (!seededUsers.contains(user) && refused?.code == .notFound), "\(user): \(String(describing: refused))")
                }
            }
            for client in clients.values { await client.close() }
            #expect(moved > 40, "about a third of the users moved: \(moved)")
            #expect(seen.stuck.isEmpty, "writes refused long after the reshard: \(seen.stuck.prefix(5))")
            #expect(seen.duplicatesAccepted == 0, "a seeded event sent again was accepted \(seen.duplicatesAccepted) times")
            #expect(seen.duplicatesSent > 0)
            #expect(seen.countsSeen.keys.sorted() == [UInt64(Self.users.count)], "seeded counts seen: \(seen.countsSeen)")
            #expect(seen.registered.count > 20, "the load ran through the reshard")
            // Every seeded event sent again after the move is a duplicate on the user's new owner.
            for start in stride(from: 0, to: seeded.count, by: 400) {
                let answer = try await harness.gateway.unary(
                    Retain_V1_Profile.recordActivities, .init(events: Array(seeded[start..<min(start + 400, seeded.count)])))
                #expect(answer.acceptedCount == 0 && answer.duplicateCount == UInt32(min(400, seeded.count - start)))
            }
            #expect(try await Self.reports(harness.gateway) == before)
            let stored = try await harness.writer.get(harness.keys.ring(service: "retain.v1.Profile"))
            #expect(stored.flatMap { RingRecord(json: Data($0.value)) }?.version == 2)
            #expect(try await harness.writer.get(harness.keys.reshard(service: "retain.v1.Profile")) == nil)
        } catch {
            await harness.stop()
            throw error
        }
        await harness.stop()
    }
}
