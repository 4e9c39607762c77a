import Foundation
import RetainProto
import RetainRPC
import RetainWire
import Testing

/// Growth.GetRank through the gateway over three real Growth shards answers as one instance
/// holding every user: the same awards (few distinct scores and times, so long ties) go to a
/// reference instance and through the gateway, and every user's rank, score, neighbours and the
/// board's size are equal, on the overall and the weekly board, at every width.
@Suite("GetRank across shards equals one instance's", .serialized)
struct RankAcrossShardsTests {
    static let users = (0..<90).map { String(format: "rk%03d", $0) }

    static func load(_ target: ClusterTarget, at start: Int64) async throws {
        for (index, user) in users.enumerated() {
            _ = try await target.call(
                .growth, Retain_V1_Growth.awardGrowth,
                .init(userId: user, action: "sign_up", idempotencyKey: "s-\(user)", occurredAtMs: start + Int64(index % 3) * 1000))
            guard index % 4 != 3 else { continue }
            _ = try await target.call(
                .growth, Retain_V1_Growth.awardGrowth,
                .init(
                    userId: user, action: "purchase", idempotencyKey: "p-\(user)", value: Int64(index % 5 + 1) * 100,
                    occurredAtMs: start + 5000 + Int64(index % 2) * 1000))
        }
    }

    @Test("every user's rank and neighbours through the gateway over 3 shards equal one instance's")
    func ranksMatchOneInstance() async throws {
        let cluster = try ShardedCluster(shards: 3)
        do {
            try await cluster.waitUntilServing()
            let start = Int64(Date().timeIntervalSince1970 * 1000) - 3_600_000
            try await Self.load(.reference(cluster), at: start)
            try await Self.load(.gateway(cluster), at: start)
            let reference = ClusterTarget.reference(cluster)
            let gateway = ClusterTarget.gateway(cluster)
            var compared = 0
            var withNeighboursFromOtherShards = 0
            for board in [Retain_V1_LeaderboardKind.overall, .weekly] {
                for user in Self.users + ["nobody"] {
                    for neighbours in [UInt32(0), 1, 5, 50] {
                        let request = Retain_V1_GetRankRequest(userId: user, board: board, neighbours: neighbours, atMs: start)
                        let expected = try await reference.call(.growth, Retain_V1_Growth.getRank, request)
                        let merged = try await gateway.call(.growth, Retain_V1_Growth.getRank, request)
                        #expect(merged == expected, "\(board) \(user) \(neighbours)")
                        compared += 1
                        let local = try await cluster.growthShardAnswer(user: user, request)
                        if local.rank != expected.rank { withNeighboursFromOtherShards += 1 }
                    }
                }
            }
            #expect(compared == 2 * 91 * 4)
            // The shards alone would answer otherwise: the comparison means something.
            #expect(withNeighboursFromOtherShards > 500)
            // GetBoardPosition itself through the gateway, for rows on and off the board.
            let probes: [(score: Int64, at: Int64, user: String)] = [
                (103, start + 5500, ""), (100, .min, ""), (104, start + 6000, "rk003"), (10_000, 0, ""),
            ]
            for (score, at, user) in probes {
                for neighbours in [UInt32(0), 2, 51] {
                    let request = Retain_V1_GetBoardPositionRequest(
                        score: score, reachedAtMs: at, userId: user, neighbours: neighbours)
                    #expect(
                        try await gateway.call(.growth, Retain_V1_Growth.getBoardPosition, request)
                            == (try await reference.call(.growth, Retain_V1_Growth.getBoardPosition, request)))
                }
            }
            await #expect(throws: RPCError.invalidArgument(field: "neighbours", "must be 0 to 51, not 52")) {
                _ = try await gateway.call(.growth, Retain_V1_Growth.getBoardPosition, .init(neighbours: 52))
            }
        } catch {
            await cluster.stop()
            throw error
        }
        await cluster.stop()
    }
}

extension RankAcrossShardsTests {
    @Test("a Growth shard that does not answer fails GetRank naming it, or is left out when the caller accepts a partial answer")
    func missingShard() async throws {
        let cluster = try ShardedCluster(shards: 2)
        do {
            try await cluster.waitUntilServing()
            let start = Int64(Date().timeIntervalSince1970 * 1000) - 3_600_000
            try await Self.load(.gateway(cluster), at: start)
            var user = ""
            for candidate in Self.users {
                let owner = try await cluster.gateway.unary(Retain_V1_Gateway.locateUser, .init(userId: candidate, service: "Growth")).owner
                if owner?.instanceId == "growth-0" {
                    user = candidate
                    break
                }
            }
            let request = Retain_V1_GetRankRequest(userId: user, neighbours: 3)
            let alone = try await cluster.shard("growth-0").unary(Retain_V1_Growth.getRank, request)
            #expect(try await cluster.gateway.unary(Retain_V1_Growth.getRank, request).totalUsers == UInt64(Self.users.count))
            cluster.kill("growth-1")
            await #expect {
                _ = try await cluster.gateway.unary(Retain_V1_Growth.getRank, request)
            } throws: { error in
                let error = error as? RPCError
                return error?.code == .unavailable && error?.details["shard"] == "growth-1"
            }
            // Only the user's own shard answers: its users are all the partial answer counts.
            var partial = ClusterTarget.gateway(cluster)
            partial.options.metadata = ["partial-results": "allow"]
            var expected = alone
            expected.missingShards = ["growth-1"]
            #expect(try await partial.call(.growth, Retain_V1_Growth.getRank, request) == expected)
        } catch {
            await cluster.stop()
            throw error
        }
        await cluster.stop()
    }
}

extension ShardedCluster {
    /// GetRank as the user's own Growth shard answers it alone.
    func growthShardAnswer(user: String, _ request: Retain_V1_GetRankRequest) async throws -> Retain_V1_GetRankResponse {
        let owner = try await gateway.unary(Retain_V1_Gateway.locateUser, .init(userId: user, service: "Growth")).owner
        return try await shard(owner?.instanceId ?? "growth-0").unary(Retain_V1_Growth.getRank, request)
    }
}
