import Foundation
import Glibc
import RetainProcess
import RetainProto
import RetainRPC
import RetainWire
import Testing

/// Replica reads bounded by `max-staleness-ms`: a replica answers only when it held everything
/// its leader had committed at most that long ago, and otherwise refuses saying how stale it is;
/// the leader is never stale.
@Suite("Replica reads with a staleness bound", .serialized)
struct ReplicaStalenessTests {
    func lookup(_ client: RPCClient, _ ids: [String], metadata: [String: String]) async throws -> Set<String> {
        let answer = try await client.unary(
            Retain_V1_Ledger.lookupTransfers, .init(transferIds: ids), options: CallOptions(timeout: .seconds(2), metadata: metadata))
        return Set(ids).subtracting(answer.missingIds)
    }

    @Test("a replica answers within the bound, refuses past it (leader paused) with its staleness, and the leader is never stale")
    func bounded() async throws {
        let etcd = try EtcdProcess()
        defer { etcd.shutdown() }
        let shard = try ShardHarness(.ledger, etcdEndpoints: [etcd.endpoint])
        defer { shard.stop() }
        try shard.startAll()
        let leader = try await shard.waitForLeader()
        try await shard.service.setUp(shard.client(leader))
        let ids = (0..<20).map { "stale-\($0)" }
        for id in ids { try await shard.service.write(shard.client(leader), id) }
        let replica = try #require(shard.members.first { $0 != leader })
        let bounded = ["read-from": "replica", "max-staleness-ms": "1000"]
        #expect(
            await eventually(timeout: .seconds(10)) { (try? await lookup(shard.client(replica), ids, metadata: bounded)) == Set(ids) },
            "the replica did not answer within 1000 ms of staleness")
        #expect(try await lookup(shard.client(leader), ids, metadata: ["max-staleness-ms": "0"]) == Set(ids), "the leader is never stale")

        // The leader paused (under its 2 s lease): the replica hears nothing and grows stale.
        shard.signal(leader, SIGSTOP)
        defer { shard.signal(leader, SIGCONT) }
        try await Task.sleep(for: .milliseconds(900))
        let refused = await #expect(throws: RPCError.self) {
            _ = try await lookup(shard.client(replica), ids, metadata: ["read-from": "replica", "max-staleness-ms": "300"])
        }
        #expect(refused?.code == .unavailable)
        #expect(refused?.details["too_stale"] == "true")
        #expect(refused?.details["not_processed"] == "true")
        let staleness = Int(refused?.details["staleness_ms"] ?? "") ?? -1
        #expect(staleness > 300, "staleness \(staleness) ms")
        // A looser bound, or none, is answered from what the replica holds.
        #expect(try await lookup(shard.client(replica), ids, metadata: ["read-from": "replica", "max-staleness-ms": "60000"]) == Set(ids))
        #expect(try await lookup(shard.client(replica), ids, metadata: ["read-from": "replica"]) == Set(ids))
        shard.signal(leader, SIGCONT)

        let malformed = await #expect(throws: RPCError.self) {
            _ = try await lookup(shard.client(replica), ids, metadata: ["read-from": "replica", "max-staleness-ms": "soon"])
        }
        #expect(malformed?.code == .invalidArgument)
        #expect(malformed?.details["field"] == "metadata.max-staleness-ms")
    }
}
