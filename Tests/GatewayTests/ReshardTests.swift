import Foundation
import Logging
import RetainCluster
import RetainEtcd
import RetainProcess
import RetainProto
import RetainRPC
import RetainWire
import Synchronization
import Testing

/// Online resharding end to end, real processes over TCP (docs/CLUSTER.md): a real etcd, three
/// Growth processes, a gateway that routes Growth by the ring key in etcd, and the `retain
/// cluster reshard` driver growing the ring from 2 to 3 shards while awards keep coming through
/// the gateway. The driver is SIGKILLed after a step and run again; afterwards every
/// acknowledged award counts exactly once on its user's new owner, the totals equal the
/// oracle's, each user is held by exactly its owner, and the old owners refuse moved users.
@Suite("Online resharding 2 -> 3 Growth shards under load", .serialized)
struct ReshardTests {
    static let users = (0..<240).map { String(format: "rs%03d", $0) }

    /// The load's record: each acknowledged award's growth by key, per user.
    final class Oracle: Sendable {
        struct State {
            var awarded: [String: [String: Int64]] = [:]
            var retried = 0
            var stopped = false
            /// Leaderboard sizes answered during the reshard (every user has growth: always all of them).
            var boardSizes: [UInt64: Int] = [:]
            var reportsRefused = 0
        }
        let state = Mutex(State())
    }

    typealias Harness = ReshardHarness

    /// Sends awards through the gateway until stopped, each with its own key, and sends a
    /// refused one again with the same key until it is acknowledged.
    static func load(_ gateway: RPCClient, _ oracle: Oracle, at: Int64, worker: Int) async {
        var sent = 0
        var random = SystemRandomNumberGenerator()
        while !oracle.state.withLock({ $0.stopped }) {
            let user = users.randomElement(using: &random)!
            let key = "w\(worker)-\(sent)"
            sent += 1
            let request = Retain_V1_AwardGrowthRequest(
                userId: user, action: "purchase", idempotencyKey: key, value: 200, occurredAtMs: at + Int64(sent))
            while true {
                do {
                    let answer = try await gateway.unary(Retain_V1_Growth.awardGrowth, request, options: CallOptions(timeout: .seconds(10)))
                    oracle.state.withLock { $0.awarded[user, default: [:]][key] = answer.awardedGrowth }
                    break
                } catch {
                    oracle.state.withLock { $0.retried += 1 }
                    try? await Task.sleep(for: .milliseconds(10))
                }
            }
        }
    }

    /// Two award workers and a reader of the merged leaderboard through the gateway, until the
    /// oracle says stop.
    static func startLoad(_ harness: Harness, _ oracle: Oracle, at: Int64) -> Task<Void, Never> {
        Task {
            await withTaskGroup(of: Void.self) { group in
                for worker in 0..<2 { group.addTask { await Self.load(harness.gateway, oracle, at: at, worker: worker) } }
                // A reader of a merged report: never a moved user counted twice or missing.
                group.addTask {
                    while !oracle.state.withLock({ $0.stopped }) {
                        do {
                            let board = try await harness.gateway.unary(Retain_V1_Growth.getLeaderboard, .init(limit: 1))
                            oracle.state.withLock { $0.boardSizes[board.totalUsers, default: 0] += 1 }
                        } catch {
                            oracle.state.withLock { $0.reportsRefused += 1 }
                        }
                    }
                }
            }
        }
    }

    /// Waits for the gateway to route Growth, then gives every user a sign-up award.
    static func seed(_ harness: Harness, _ oracle: Oracle, at: Int64) async throws {
        var ready = false
        for _ in 0..<200 where !ready {
            ready = (try? await harness.gateway.unary(Retain_V1_Growth.getLevelTiers, .init())) != nil
            if !ready { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(ready)
        for user in users {
            _ = try await harness.gateway.unary(
                Retain_V1_Growth.awardGrowth, .init(userId: user, action: "sign_up", idempotencyKey: "s", occurredAtMs: at))
            oracle.state.withLock { $0.awarded[user, default: [:]]["s"] = 100 }
        }
    }

    /// Adds growth-2 in groups of about 12 users, unpaced, with the driver SIGKILLed once it
    /// recorded `step` of group 3; returns its output.
    static func addInGroupsKilledInGroup3(_ harness: Harness, after step: String) async throws -> String {
        try await Task.sleep(for: .milliseconds(300))
        let add = "growth-2=127.0.0.1:\(harness.shards["growth-2"]!.port)"
        let (killed, output) = try await harness.reshard(
            ["--add", add, "--group-size", "12", "--max-bytes-per-second", "0"], killAfter: step, group: 3)
        #expect(killed != 0)
        return output
    }

    @Test(
        "2 -> 3 shards in groups under load: killed in group 3, abandoned there, completed by a run without --add; every acknowledged award once"
    )
    func reshardInGroups() async throws {
        let harness = try await Harness(service: "growth", arguments: ["--allow-client-times"])
        do {
            let at = Int64(Date().timeIntervalSince1970 * 1000) - 3_600_000
            let oracle = Oracle()
            try await Self.seed(harness, oracle, at: at)
            let load = Self.startLoad(harness, oracle, at: at)
            let killedOutput = try await Self.addInGroupsKilledInGroup3(harness, after: "verified")
            // Groups 1 and 2 switched: the ring in etcd is version 3, growth-2 holding part of its points.
            let middle = try #require(try await harness.ring())
            #expect(middle.version == 3, "\(middle)\n\(killedOutput)")
            let points = try #require(middle.instances.first { $0.id == "growth-2" }?.points)
            #expect(points > 0 && points < 128, "\(middle)")
            #expect(killedOutput.contains("group 1/") && killedOutput.contains("group 2/"), "\(killedOutput)")
            let (aborted, abortOutput) = try await harness.reshard(["--abort"])
            #expect(aborted == 0 && abortOutput.contains("abandoned at group 3"), "\(abortOutput)")
            #expect(try await harness.ring() == middle)
            // Reports are answered on the kept ring at once: the abandoned group's copies at
            // growth-2 were discarded, so it answers for ring version 3 again.
            let client = harness.client("growth-2")
            let board = try await client.unary(
                Retain_V1_Growth.getLeaderboard, .init(limit: 1), options: CallOptions(metadata: ["ring-version": "3"]))
            let held = try await client.unary(Retain_V1_Resharding.listShardUsers, .init(limit: 1)).total
            await client.close()
            #expect(board.totalUsers == held)
            // A run without --add completes the partial ring, in groups again.
            let (status, output) = try await harness.reshard(["--group-size", "12", "--max-bytes-per-second", "0"])
            #expect(status == 0, "\(output)")
            try await Task.sleep(for: .milliseconds(500))
            oracle.state.withLock { $0.stopped = true }
            await load.value
            let seen = oracle.state.withLock { $0 }
            print(
                "reshard in groups: boards \(seen.boardSizes), \(seen.reportsRefused) refused, \(seen.retried) retried\n\(killedOutput)\n\(abortOutput)\n\(output)"
            )
            try await Self.expectEveryAwardOnItsOwner(harness, seen, at: at)
            let final = try #require(try await harness.ring())
            #expect(final.version > 4 && final.instances.allSatisfy { $0.points == nil }, "\(final)")
            #expect(output.contains("group 2/") && !output.contains("group 1/1:"), "several groups: \(output)")
            #expect(try await harness.writer.get(harness.keys.reshard(service: "retain.v1.Growth")) == nil)
        } catch {
            await harness.stop()
            throw error
        }
        await harness.stop()
    }

    @Test(
        "a reshard killed in group 3 is rolled back under load, in groups: every user back on the 2-shard ring, every acknowledged award once"
    )
    func rollbackInGroups() async throws {
        let harness = try await Harness(service: "growth", arguments: ["--allow-client-times"])
        do {
            let at = Int64(Date().timeIntervalSince1970 * 1000) - 3_600_000
            let oracle = Oracle()
            try await Self.seed(harness, oracle, at: at)
            let load = Self.startLoad(harness, oracle, at: at)
            let killedOutput = try await Self.addInGroupsKilledInGroup3(harness, after: "fenced")
            let (status, output) = try await harness.reshard(["--rollback", "--group-size", "12", "--max-bytes-per-second", "0"])
            #expect(status == 0, "\(output)")
            #expect(output.contains("abandoned at group 3") && output.contains("move back"), "\(output)")
            try await Task.sleep(for: .milliseconds(500))
            oracle.state.withLock { $0.stopped = true }
            await load.value
            let seen = oracle.state.withLock { $0 }
            print(
                "rollback in groups: boards \(seen.boardSizes), \(seen.reportsRefused) refused, \(seen.retried) retried\n\(killedOutput)\n\(output)"
            )
            // Back on the ring of two: each user on its owner there, growth-2 holds none.
            try await Self.expectEveryAwardOnItsOwner(
                harness, seen, at: at, shards: ["growth-0", "growth-1"], previous: nil)
            let final = try #require(try await harness.ring())
            #expect(final.instances.map(\.id) == ["growth-0", "growth-1"] && final.instances.allSatisfy { $0.points == nil }, "\(final)")
            #expect(final.version > 3)
            #expect(try await harness.writer.get(harness.keys.reshard(service: "retain.v1.Growth")) == nil)
        } catch {
            await harness.stop()
            throw error
        }
        await harness.stop()
    }

    @Test("2 -> 3 shards under load, the driver killed after the fence and run again: every acknowledged award once, on its new owner")
    func reshardUnderLoad() async throws {
        let harness = try await Harness(service: "growth", arguments: ["--allow-client-times"])
        do {
            let at = Int64(Date().timeIntervalSince1970 * 1000) - 3_600_000
            let oracle = Oracle()
            // The gateway routes Growth by the ring in etcd once it has read it.
            try await Self.seed(harness, oracle, at: at)
            let before = ContinuousClock.now
            let load = Self.startLoad(harness, oracle, at: at)
            try await Task.sleep(for: .milliseconds(500))
            let (killedOutput, output) = try await harness.addKillingDriverAfterFence("growth-2")
            try await Task.sleep(for: .milliseconds(500))
            oracle.state.withLock { $0.stopped = true }
            await load.value
            let seen = oracle.state.withLock { $0 }
            let awards = seen.awarded.values.map(\.count).reduce(0, +)
            print(
                "reshard: boards \(seen.boardSizes), \(seen.reportsRefused) refused; \(awards) awards acknowledged in \(Double((ContinuousClock.now - before) / .milliseconds(1)) / 1000) s, \(seen.retried) retried\n\(killedOutput)\n\(output)"
            )

            try await Self.expectEveryAwardOnItsOwner(harness, seen, at: at)
            #expect(awards > Self.users.count + 100, "the load ran through the reshard")
            // The ring in etcd is the new one, and no reshard is left in progress.
            let stored = try await harness.writer.get(harness.keys.ring(service: "retain.v1.Growth"))
            #expect(stored.flatMap { RingRecord(json: Data($0.value)) }?.version == 2)
            #expect(try await harness.writer.get(harness.keys.reshard(service: "retain.v1.Growth")) == nil)
        } catch {
            await harness.stop()
            throw error
        }
        await harness.stop()
    }

    @Test("a reshard killed before its switch is abandoned with --abort: the old ring and owners answer again")
    func abortBeforeTheSwitch() async throws {
        let harness = try await Harness(service: "growth", arguments: ["--allow-client-times"])
        do {
            let at = Int64(Date().timeIntervalSince1970 * 1000) - 3_600_000
            var ready = false
            for _ in 0..<200 where !ready {
                ready = (try? await harness.gateway.unary(Retain_V1_Growth.getLevelTiers, .init())) != nil
                if !ready { try await Task.sleep(for: .milliseconds(50)) }
            }
            for user in Self.users {
                _ = try await harness.gateway.unary(
                    Retain_V1_Growth.awardGrowth, .init(userId: user, action: "sign_up", idempotencyKey: "s", occurredAtMs: at))
            }
            _ = try await harness.reshard(["--add", "growth-2=127.0.0.1:\(harness.shards["growth-2"]!.port)"], killAfter: "verified")
            let ring = HashRing(instanceIDs: ["growth-0", "growth-1", "growth-2"])
            let moving = try #require(Self.users.first { ring.owner(of: $0) == 2 })
            let fenced = await Self.status { _ = try await harness.gateway.unary(Retain_V1_Growth.getGrowthView, .init(userId: moving)) }
            #expect(fenced?.code == .unavailable && fenced?.details["not_processed"] == "true")
            let (status, output) = try await harness.reshard(["--abort"])
            #expect(status == 0 && output.contains("abandoned"), "\(output)")
            #expect(try await harness.gateway.unary(Retain_V1_Growth.getGrowthView, .init(userId: moving)).totalGrowth == 100)
            let stored = try await harness.writer.get(harness.keys.ring(service: "retain.v1.Growth"))
            #expect(stored.flatMap { RingRecord(json: Data($0.value)) }?.version == 1)
        } catch {
            await harness.stop()
            throw error
        }
        await harness.stop()
    }

    @Test(
        "a reshard whose new shard cannot move users (a process that does not serve retain.v1.Resharding) is refused before anything is recorded"
    )
    func refusedBeforeTheStart() async throws {
        let harness = try await Harness(service: "growth")
        do {
            // The gateway serves no retain.v1.Resharding of its own.
            let (status, output) = try await harness.reshard(["--add", "growth-9=127.0.0.1:\(harness.gatewayProcess.port)"])
            #expect(status != 0)
            #expect(output.contains("cannot move users of retain.v1.Growth") && output.contains("nothing was started"), "\(output)")
            #expect(try await harness.writer.get(harness.keys.reshard(service: "retain.v1.Growth")) == nil)
            let stored = try await harness.writer.get(harness.keys.ring(service: "retain.v1.Growth"))
            #expect(stored.flatMap { RingRecord(json: Data($0.value)) }?.version == 1)
        } catch {
            await harness.stop()
            throw error
        }
        await harness.stop()
    }

    /// Each user is held by exactly its owner on the ring of `shards` (by default the 3-shard
    /// ring), and counts every acknowledged award once; the owners on the ring of `previous`
    /// refuse the users that moved; the merged leaderboard always counted every user once.
    static func expectEveryAwardOnItsOwner(
        _ harness: Harness, _ seen: Oracle.State, at: Int64, shards: [String] = ["growth-0", "growth-1", "growth-2"],
        previous: [String]? = ["growth-0", "growth-1"]
    ) async throws {
        // Each user is held by exactly its owner on the new ring, and counts every acknowledged award once.
        let ring = HashRing(instanceIDs: shards)
        var holders: [String: [String]] = [:]
        for shard in harness.shards.keys.sorted() {
            let client = harness.client(shard)
            let held = try await client.unary(Retain_V1_Resharding.listShardUsers, .init(limit: 10_000)).userIds
            for user in held { holders[user, default: []].append(shard) }
            await client.close()
        }
        var total: Int64 = 0
        var moved = 0
        for user in users {
            let owner = ring.instanceIDs[ring.owner(of: user)!]
            #expect(holders[user] == [owner], "\(user)")
            let view = try await harness.gateway.unary(Retain_V1_Growth.getGrowthView, .init(userId: user, atMs: at))
            #expect(view.totalGrowth == seen.awarded[user, default: [:]].values.reduce(0, +), "\(user)")
            total += view.totalGrowth
            guard let previous else { continue }
            let old = HashRing(instanceIDs: previous)
            let previousOwner = old.instanceIDs[old.owner(of: user)!]
            if previousOwner != owner {
                moved += 1
                let client = harness.client(previousOwner)
                let refused = await Self.status { _ = try await client.unary(Retain_V1_Growth.getGrowthView, .init(userId: user)) }
                #expect(refused?.code == .unavailable && refused?.details["moved"] == "true", "\(user)")
                await client.close()
            }
        }
        #expect(previous == nil || moved > 40, "a third of the users or so moved: \(moved)")
        #expect(holders.values.allSatisfy { $0.allSatisfy(shards.contains) }, "a shard off the ring holds no user")
        #expect(seen.boardSizes.keys.sorted() == [UInt64(users.count)], "leaderboard sizes seen: \(seen.boardSizes)")
        #expect(total == seen.awarded.values.flatMap(\.values).reduce(0, +))
    }

    static func status(_ body: () async throws -> Void) async -> RPCError? {
        do {
            try await body()
            return nil
        } catch let error as RPCError {
            return error
        } catch {
            return RPCError(.unknown, "\(error)")
        }
    }
}
