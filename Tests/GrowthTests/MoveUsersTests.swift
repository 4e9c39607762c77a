import Foundation
import RetainCluster
import RetainProcess
import RetainProto
import RetainRPC
import RetainWire
import Synchronization
import Testing

/// The shard's side of online resharding over TCP (docs/CLUSTER.md): a third of the users of one
/// real Growth process move to another while awards keep coming, by the steps a driver takes
/// (copy, catch up by checksum, fence, final copy, verify, switch, drop). The test routes each
/// award to the user's shard as a gateway would, sending a refused one again with its key.
/// Afterwards every acknowledged award counts exactly once on the user's new shard, the totals
/// across both shards equal the oracle's, and the old shard no longer answers for moved users,
/// not even after a SIGKILL and a restart.
@Suite("Growth users moved between shards over TCP", .serialized)
struct MoveUsersTests {
    static let users = (0..<150).map { String(format: "mv%03d", $0) }
    static let moving = Set(users.enumerated().filter { $0.offset % 3 == 0 }.map(\.element))

    /// What the load saw: the growth of every acknowledged award by key, per user.
    final class Oracle: Sendable {
        struct State {
            var awarded: [String: [String: Int64]] = [:]
            var refusedMoved = 0
            var switched = false
            var stopped = false
        }
        let state = Mutex(State())
    }

    /// Copies `users` from `source` to `target` when their checksums differ there; returns how
    /// many were copied.
    static func copy(_ users: [String], from source: RPCClient, to target: RPCClient) async throws -> Int {
        var copied = 0
        for start in stride(from: 0, to: users.count, by: 40) {
            let page = Array(users[start..<min(start + 40, users.count)])
            let theirs = try await target.unary(Retain_V1_Resharding.exportUsers, .init(userIds: page)).users
            let known = Dictionary(uniqueKeysWithValues: theirs.map { ($0.userId, $0.checksum) })
            let ours = try await source.unary(Retain_V1_Resharding.exportUsers, .init(userIds: page)).users
            let differing = ours.filter { known[$0.userId] != $0.checksum }
            if !differing.isEmpty {
                _ = try await target.unary(Retain_V1_Resharding.importUsers, .init(users: differing))
            }
            copied += differing.count
        }
        return copied
    }

    @Test("a shard lists the users a ring places elsewhere, in one pass, with their count; a malformed ring is refused naming the field")
    func listingByRing() async throws {
        let root = try makeTemporaryDirectory("retain-growth-listing")
        defer { try? FileManager.default.removeItem(at: root) }
        let shard = try startGrowth(root)
        let client = RPCClient(host: "127.0.0.1", port: shard.port)
        do {
            let at = Int64(Date().timeIntervalSince1970 * 1000) - 3_600_000
            for user in Self.users {
                _ = try await client.unary(
                    Retain_V1_Growth.awardGrowth, .init(userId: user, action: "sign_up", idempotencyKey: "s", occurredAtMs: at))
            }
            // The shard is "g-0" of a ring growing by "g-1": half of g-1's points, then all of them.
            for points in [64, 0] {
                let filter = [Retain_V1_RingInstance(id: "g-0"), Retain_V1_RingInstance(id: "g-1", points: UInt32(points))]
                let ring = HashRing(instanceIDs: ["g-0", "g-1"], points: points == 0 ? [:] : ["g-1": points])
                let expected = Self.users.filter { ring.owner(of: $0) == 1 }
                var listed: [String] = []
                var after = ""
                repeat {
                    let page = try await client.unary(
                        Retain_V1_Resharding.listShardUsers, .init(afterUserId: after, limit: 10, movingBy: filter, shardId: "g-0"))
                    #expect(page.total == UInt64(expected.count))
                    listed += page.userIds
                    after = page.nextAfterUserId
                } while !after.isEmpty
                #expect(listed == expected.sorted(), "points \(points)")
                #expect(!expected.isEmpty && expected.count < Self.users.count)
            }
            let unfiltered = try await client.unary(Retain_V1_Resharding.listShardUsers, .init(limit: 1))
            #expect(unfiltered.total == UInt64(Self.users.count))
            // A ring without this shard gives every user away.
            let leaving = try await client.unary(
                Retain_V1_Resharding.listShardUsers, .init(limit: 1, movingBy: [.init(id: "g-1")], shardId: "g-0"))
            #expect(leaving.total == UInt64(Self.users.count))
            let bad: [(Retain_V1_ListShardUsersRequest, String)] = [
                (.init(movingBy: [.init(id: "g-0")]), "shard_id"),
                (.init(movingBy: [.init(id: "g-0"), .init(id: "g-0")], shardId: "g-0"), "moving_by[1].id"),
                (.init(movingBy: [.init(id: "g-0"), .init(id: "g-1", points: 129)], shardId: "g-0"), "moving_by[1].points"),
            ]
            for (request, field) in bad {
                let refused = await statusOf { _ = try await client.unary(Retain_V1_Resharding.listShardUsers, request) }
                #expect(refused?.code == .invalidArgument && refused?.details["field"] == field, "\(String(describing: refused))")
            }
        } catch {
            shard.kill()
            throw error
        }
        await client.close()
        _ = shard.stop()
    }

    @Test("users move while awards keep coming: each acknowledged award once on the new shard, none lost, the old shard refuses them")
    func moveUnderLoad() async throws {
        let root = try makeTemporaryDirectory("retain-move")
        defer { try? FileManager.default.removeItem(at: root) }
        var source = try startGrowth(root.appendingPathComponent("source"))
        let target = try startGrowth(root.appendingPathComponent("target"))
        var sourceClient = RPCClient(host: "127.0.0.1", port: source.port)
        let targetClient = RPCClient(host: "127.0.0.1", port: target.port)
        let oracle = Oracle()
        let at = Int64(Date().timeIntervalSince1970 * 1000) - 3_600_000
        do {
            for user in Self.users {
                _ = try await sourceClient.unary(
                    Retain_V1_Growth.awardGrowth,
                    .init(userId: user, action: "sign_up", idempotencyKey: "s-\(user)", occurredAtMs: at))
                oracle.state.withLock { $0.awarded[user, default: [:]]["s-\(user)"] = 100 }
            }
            // The load: awards to random users, routed as a gateway would; a refused award is
            // sent again with its key until it is acknowledged.
            let sourceForLoad = sourceClient
            let load = Task {
                var random = SystemRandomNumberGenerator()
                var sent = 0
                while !oracle.state.withLock({ $0.stopped }) {
                    let user = Self.users.randomElement(using: &random)!
                    let key = "k\(sent)"
                    sent += 1
                    let request = Retain_V1_AwardGrowthRequest(
                        userId: user, action: "purchase", idempotencyKey: key, value: 300, occurredAtMs: at + Int64(sent))
                    while true {
                        let moved = Self.moving.contains(user) && oracle.state.withLock { $0.switched }
                        do {
                            let answer = try await (moved ? targetClient : sourceForLoad).unary(Retain_V1_Growth.awardGrowth, request)
                            oracle.state.withLock { $0.awarded[user, default: [:]][key] = answer.awardedGrowth }
                            break
                        } catch let error as RPCError where error.code == .unavailable && error.details["not_processed"] == "true" {
                            if error.details["moved"] == "true" { oracle.state.withLock { $0.refusedMoved += 1 } }
                            try? await Task.sleep(for: .milliseconds(5))
                        } catch {
                            try? await Task.sleep(for: .milliseconds(5))
                        }
                    }
                }
                return sent
            }
            try await Task.sleep(for: .milliseconds(300))
            let moving = Self.moving.sorted()
            // 1. Copy; 2. catch up by checksum while the load goes on.
            let first = try await Self.copy(moving, from: sourceClient, to: targetClient)
            #expect(first == moving.count)
            try await Task.sleep(for: .milliseconds(300))
            let caughtUp = try await Self.copy(moving, from: sourceClient, to: targetClient)
            // 3. Fence: from its answer on, nothing about the moving users is written at the source.
            let fence = try await sourceClient.unary(Retain_V1_Resharding.fenceUsers, .init(userIds: moving))
            #expect(fence.fencedCount == UInt64(moving.count))
            // 4. Final copy, 5. verify every moved user's checksum on both sides.
            _ = try await Self.copy(moving, from: sourceClient, to: targetClient)
            #expect(try await Self.copy(moving, from: sourceClient, to: targetClient) == 0, "verified: nothing differs")
            // 6. Switch the routing; 7. drop the moved users at the source.
            oracle.state.withLock { $0.switched = true }
            let dropped = try await sourceClient.unary(Retain_V1_Resharding.dropUsers, .init(userIds: moving))
            #expect(dropped.dropped == UInt32(moving.count))
            try await Task.sleep(for: .milliseconds(300))
            oracle.state.withLock { $0.stopped = true }
            let sent = await load.value
            let seen = oracle.state.withLock { $0 }
            print("moved \(moving.count) users: \(sent) awards sent, \(caughtUp) users caught up, \(seen.refusedMoved) refused as moved")

            // Every acknowledged award once, on the user's shard; the old shard holds none of
            // the moved users and refuses them, also after a SIGKILL and a restart.
            source.kill()
            await sourceClient.close()
            source = try startGrowth(root.appendingPathComponent("source"))
            sourceClient = RPCClient(host: "127.0.0.1", port: source.port)
            var total: Int64 = 0
            for user in Self.users {
                let owner = Self.moving.contains(user) ? targetClient : sourceClient
                let view = try await owner.unary(Retain_V1_Growth.getGrowthView, .init(userId: user, atMs: at))
                let expected = seen.awarded[user, default: [:]].values.reduce(0, +)
                #expect(view.totalGrowth == expected, "\(user)")
                total += view.totalGrowth
                if Self.moving.contains(user) {
                    let refused = await statusOf { _ = try await sourceClient.unary(Retain_V1_Growth.getGrowthView, .init(userId: user)) }
                    #expect(
                        refused?.code == .unavailable && refused?.details["moved"] == "true" && refused?.details["not_processed"] == "true")
                }
            }
            #expect(total == seen.awarded.values.flatMap(\.values).reduce(0, +))
            // A retried award after the move is recognised on the new shard, not paid twice.
            if let found = seen.awarded.first(where: { Self.moving.contains($0.key) && $0.value.count > 1 }),
                let key = found.value.keys.first(where: { $0.hasPrefix("k") })
            {
                let (user, keys) = (found.key, found.value)
                let again = try await targetClient.unary(
                    Retain_V1_Growth.awardGrowth,
                    .init(userId: user, action: "purchase", idempotencyKey: key, value: 300, occurredAtMs: at + Int64(key.dropFirst())! + 1)
                )
                #expect(again.replayed && again.awardedGrowth == keys[key])
            }
            var held: [String] = []
            var after = ""
            repeat {
                let page = try await sourceClient.unary(Retain_V1_Resharding.listShardUsers, .init(afterUserId: after, limit: 40))
                held += page.userIds
                after = page.nextAfterUserId
                #expect(page.fencedCount == UInt64(moving.count))
            } while !after.isEmpty
            #expect(Set(held) == Set(Self.users).subtracting(Self.moving))
            let copies = try await targetClient.unary(Retain_V1_Resharding.listShardUsers, .init()).userIds
            #expect(Set(copies) == Self.moving)
            // A user that moved away cannot be copied back without lifting its fence.
            let record = try await targetClient.unary(Retain_V1_Resharding.exportUsers, .init(userIds: [moving[0]])).users
            let refused = await statusOf { _ = try await sourceClient.unary(Retain_V1_Resharding.importUsers, .init(users: record)) }
            #expect(refused?.code == .failedPrecondition)
        } catch {
            source.kill()
            target.kill()
            throw error
        }
        await sourceClient.close()
        await targetClient.close()
        _ = source.stop()
        _ = target.stop()
    }
}
