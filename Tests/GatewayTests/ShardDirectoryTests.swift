import Foundation
import GatewayCore
import RetainCluster
import Testing

/// The gateway's rings of a replicated cluster: a shard is one ring instance whose address is
/// its leader's, so users stay with their shard while the leader moves.
@Suite("Shard directory")
struct ShardDirectoryTests {
    let keys = ClusterKeys(cluster: "retain")

    func put(
        _ state: inout ClusterState, leader member: String?, of shard: String, at address: String = "",
        epoch: Int64 = 1, service: String = "retain.v1.Ledger"
    ) {
        let value = member.map { LeaderRecord(member: $0, address: address, epoch: epoch, service: service).json }
        state.apply(key: keys.leader(shard: shard), value: value)
    }

    @Test("without a topology, each shard etcd names becomes an instance of its service, reached at its leader")
    func shardsFromEtcd() throws {
        var directory = ShardDirectory(topology: Topology(services: []))
        #expect(directory.rings.isEmpty)
        var state = ClusterState(keys: keys)
        put(&state, leader: "profile-1-a", of: "profile-1", at: "10.0.0.2:7003", service: "retain.v1.Profile")
        put(&state, leader: "profile-0-b", of: "profile-0", at: "10.0.0.1:7013", epoch: 4, service: "retain.v1.Profile")
        put(&state, leader: "feedback-0-a", of: "feedback-0", at: "10.0.0.3:7004", service: "retain.v1.Feedback")
        let changed1 = directory.update(from: state)
        #expect(changed1)
        let profile = try #require(directory.rings["retain.v1.Profile"])
        #expect(profile.instanceIDs == ["profile-0", "profile-1"])
        #expect(profile.addresses["profile-0"] == Topology.Instance(id: "profile-0", host: "10.0.0.1", port: 7013))
        #expect(profile.epochs["profile-0"] == 4)
        #expect(profile.followed == ["profile-0", "profile-1"])
        #expect(directory.rings["retain.v1.Feedback"]?.instanceIDs == ["feedback-0"])
        let again = directory.update(from: state)
        #expect(!again, "nothing changed")
    }

    @Test("a leader that moves changes the shard's address, not the ring; a shard without a leader stays on its ring")
    func leaderMoves() throws {
        var directory = ShardDirectory(topology: Topology(services: []))
        var state = ClusterState(keys: keys)
        put(&state, leader: "profile-0-a", of: "profile-0", at: "127.0.0.1:7003", epoch: 1, service: "retain.v1.Profile")
        put(&state, leader: "profile-1-a", of: "profile-1", at: "127.0.0.1:7103", epoch: 1, service: "retain.v1.Profile")
        directory.update(from: state)
        let ring = HashRing(instanceIDs: try #require(directory.rings["retain.v1.Profile"]).instanceIDs)

        put(&state, leader: nil, of: "profile-0", service: "retain.v1.Profile")
        let changed2 = directory.update(from: state)
        #expect(changed2)
        #expect(directory.rings["retain.v1.Profile"]?.instanceIDs == ["profile-0", "profile-1"])
        #expect(directory.rings["retain.v1.Profile"]?.addresses["profile-0"] == nil)

        // Every key of the shard gone (all its processes down): it keeps its place.
        state.apply(key: keys.leader(shard: "profile-0"), value: nil)
        #expect(state.shards["profile-0"] == nil)
        directory.update(from: state)
        #expect(directory.rings["retain.v1.Profile"]?.instanceIDs == ["profile-0", "profile-1"])

        put(&state, leader: "profile-0-c", of: "profile-0", at: "127.0.0.1:7023", epoch: 2, service: "retain.v1.Profile")
        let changed3 = directory.update(from: state)
        #expect(changed3)
        let after = try #require(directory.rings["retain.v1.Profile"])
        #expect(after.addresses["profile-0"]?.address == "127.0.0.1:7023")
        #expect(after.epochs["profile-0"] == 2)
        let moved = HashRing(instanceIDs: after.instanceIDs)
        for user in (0..<500).map({ "user-\($0)" }) {
            #expect(ring.owner(of: user) == moved.owner(of: user))
        }
    }

    @Test("the ledger is one writer: a second ledger shard in etcd is never routed to")
    func oneLedgerWriter() throws {
        var directory = ShardDirectory(topology: Topology(services: []))
        var state = ClusterState(keys: keys)
        put(&state, leader: "ledger-1-a", of: "ledger-1", at: "10.0.0.2:7003")
        put(&state, leader: "ledger-0-a", of: "ledger-0", at: "10.0.0.1:7003")
        directory.update(from: state)
        let ledger = try #require(directory.rings["retain.v1.Ledger"])
        #expect(ledger.instanceIDs == ["ledger-0"] && ledger.followed == ["ledger-0"])
        #expect(ledger.addresses.keys.sorted() == ["ledger-0"])
    }
    @Test("a new leader at the same address (a restarted process elected again) is a change: its epoch differs")
    func sameAddressNewEpoch() {
        var directory = ShardDirectory(topology: Topology(services: []))
        var state = ClusterState(keys: keys)
        put(&state, leader: "ledger-0-a", of: "ledger-0", at: "127.0.0.1:7003", epoch: 1)
        directory.update(from: state)
        put(&state, leader: "ledger-0-a", of: "ledger-0", at: "127.0.0.1:7003", epoch: 2)
        let changed4 = directory.update(from: state)
        #expect(changed4)
        #expect(directory.rings["retain.v1.Ledger"]?.epochs["ledger-0"] == 2)
    }

    @Test("with a topology, its services keep exactly its instances; those named like a shard follow the shard's leader")
    func topologyPinsRings() throws {
        let topology = try Topology.parse(
            Data(
                """
                {"services": {
                  "Ledger": {"instances": [{"id": "ledger-0", "address": "127.0.0.1:7003"}], "idempotent_methods": ["GetBalance"]},
                  "Profile": ["127.0.0.1:7001"]}}
                """.utf8))
        var directory = ShardDirectory(topology: topology)
        let before = try #require(directory.rings["retain.v1.Ledger"])
        #expect(before.addresses["ledger-0"]?.address == "127.0.0.1:7003", "the topology's address until etcd names the shard")
        #expect(before.followed.isEmpty)
        #expect(before.idempotentMethods == ["GetBalance"])

        var state = ClusterState(keys: keys)
        put(&state, leader: "ledger-0-b", of: "ledger-0", at: "127.0.0.1:7013", epoch: 2)
        put(&state, leader: "ledger-7-a", of: "ledger-7", at: "127.0.0.1:7703", epoch: 1)
        put(&state, leader: "growth-0-a", of: "growth-0", at: "127.0.0.1:7002", service: "retain.v1.Growth")
        directory.update(from: state)
        let ledger = try #require(directory.rings["retain.v1.Ledger"])
        #expect(ledger.instanceIDs == ["ledger-0"], "a shard the topology does not list does not join a listed service's ring")
        #expect(ledger.addresses["ledger-0"]?.address == "127.0.0.1:7013")
        #expect(ledger.followed == ["ledger-0"])
        #expect(directory.rings["retain.v1.Profile"]?.addresses["127.0.0.1:7001"]?.port == 7001)
        #expect(directory.rings["retain.v1.Growth"]?.instanceIDs == ["growth-0"], "an unlisted service comes from etcd")

        put(&state, leader: nil, of: "ledger-0")
        directory.update(from: state)
        #expect(
            directory.rings["retain.v1.Ledger"]?.addresses["ledger-0"] == nil,
            "once etcd named the shard, its leader's absence is not replaced by the topology's address")
    }
}
