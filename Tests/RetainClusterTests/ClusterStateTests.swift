import Foundation
import RetainCluster
import Testing

/// Reading a replicated cluster's keys: the layout, the records, and the state a watch's puts
/// and deletes fold into.
@Suite("Cluster keys and state")
struct ClusterStateTests {
    let keys = ClusterKeys(cluster: "prod")

    func leader(_ member: String, _ address: String, epoch: Int64, service: String = "retain.v1.Ledger") -> Data {
        LeaderRecord(member: member, address: address, epoch: epoch, service: service, pid: 42).json
    }

    func member(_ name: String, role: String, lag: Int64 = 0, service: String = "retain.v1.Ledger") -> Data {
        MemberRecord(
            member: name, address: "127.0.0.1:7003", service: service, role: role, epoch: 3,
            lastSequence: 10, lagRecords: lag, lagMs: lag * 2, pid: 7
        ).json
    }

    @Test("keys are parsed back to the shard and member they name; other keys are not the layout's")
    func keyLayout() {
        #expect(keys.shardsPrefix == "/retain/prod/shards/")
        #expect(keys.parse(keys.leader(shard: "ledger-0")) == .leader(shard: "ledger-0"))
        #expect(keys.parse(keys.member("ledger-0-b", shard: "ledger-0")) == .member(shard: "ledger-0", member: "ledger-0-b"))
        #expect(keys.parse(keys.sync(shard: "ledger-0")) == .sync(shard: "ledger-0"))
        #expect(keys.parse(keys.epoch(shard: "ledger-0")) == .epoch(shard: "ledger-0"))
        #expect(keys.parse("/retain/other/shards/ledger-0/leader") == nil)
        #expect(keys.parse("/retain/prod/shards/ledger-0/members/") == nil)
        #expect(keys.parse("/retain/prod/shards/ledger-0/unknown") == nil)
        #expect(keys.parse("/retain/prod/shards//leader") == nil)
    }

    @Test("records read the contract's JSON, snake_case fields and all")
    func recordsReadTheContract() throws {
        let leader = try #require(
            LeaderRecord(
                json: Data(
                    """
                    {"member":"ledger-0-a","address":"127.0.0.1:7003","epoch":3,"service":"retain.v1.Ledger","pid":1234}
                    """.utf8)))
        #expect(leader == LeaderRecord(member: "ledger-0-a", address: "127.0.0.1:7003", epoch: 3, service: "retain.v1.Ledger", pid: 1234))
        let member = try #require(
            MemberRecord(
                json: Data(
                    """
                    {"member":"ledger-0-b","address":"127.0.0.1:7013","service":"retain.v1.Ledger","role":"replica","epoch":3,
                     "last_sequence":90,"durable_sequence":90,"committed_sequence":88,"lag_records":10,"lag_ms":25,"pid":99,
                     "data_dir":"/data/ledger-0-b","updated_unix_ms":1700000000000}
                    """.utf8)))
        #expect(member.lagRecords == 10 && member.lagMs == 25 && member.committedSequence == 88 && member.dataDir == "/data/ledger-0-b")
        #expect(MemberRecord(json: member.json) == member)
        let sync = try #require(SyncRecord(json: Data(#"{"leader":"ledger-0-a","epoch":3,"members":["ledger-0-b"],"required":1}"#.utf8)))
        #expect(sync.members == ["ledger-0-b"] && sync.required == 1)
        #expect(EpochValue.parse(Data(#""3""#.utf8)) == 3)
        #expect(EpochValue.parse(Data("4".utf8)) == 4)
        #expect(EpochValue.parse(EpochValue.encode(12)) == 12)
        #expect(EpochValue.parse(Data("x".utf8)) == nil)
    }

    @Test("puts and deletes fold into shards: leader, members, sync, epoch; a shard goes with its last key")
    func foldsEvents() {
        var state = ClusterState(keys: keys)
        #expect(state.apply(key: keys.leader(shard: "ledger-0"), value: leader("ledger-0-a", "127.0.0.1:7003", epoch: 3)) == "ledger-0")
        state.apply(key: keys.member("ledger-0-a", shard: "ledger-0"), value: member("ledger-0-a", role: "leader"))
        state.apply(key: keys.member("ledger-0-b", shard: "ledger-0"), value: member("ledger-0-b", role: "replica", lag: 5))
        state.apply(key: keys.epoch(shard: "ledger-0"), value: EpochValue.encode(3))
        #expect(state.apply(key: "/retain/other/shards/x-0/leader", value: Data("{}".utf8)) == nil)
        let shard = state.shards["ledger-0"]
        #expect(shard?.leader?.address == "127.0.0.1:7003")
        #expect(shard?.members.keys.sorted() == ["ledger-0-a", "ledger-0-b"])
        #expect(shard?.members["ledger-0-b"]?.lagRecords == 5)
        #expect(shard?.epoch == 3)
        #expect(shard?.service == "retain.v1.Ledger")
        // The same value again changes nothing.
        #expect(state.apply(key: keys.epoch(shard: "ledger-0"), value: EpochValue.encode(3)) == nil)

        state.apply(key: keys.leader(shard: "ledger-0"), value: nil)
        #expect(state.shards["ledger-0"]?.leader == nil)
        #expect(state.shards["ledger-0"]?.service == "retain.v1.Ledger", "the members still say which service")
        for key in [keys.member("ledger-0-a", shard: "ledger-0"), keys.member("ledger-0-b", shard: "ledger-0")] {
            state.apply(key: key, value: nil)
        }
        #expect(state.shards["ledger-0"]?.service == "retain.v1.Ledger", "the default shard name still says which service")
        state.apply(key: keys.epoch(shard: "ledger-0"), value: nil)
        #expect(state.shards["ledger-0"] == nil)
    }

    @Test("a value that is not the record its key holds counts as absent and is reported")
    func unreadableValues() {
        var state = ClusterState(keys: keys)
        state.apply(key: keys.leader(shard: "ledger-0"), value: Data("not json".utf8))
        #expect(state.shards["ledger-0"] == nil)
        #expect(state.unreadable[keys.leader(shard: "ledger-0")] != nil)
        state.apply(key: keys.leader(shard: "ledger-0"), value: leader("ledger-0-a", "127.0.0.1:7003", epoch: 1))
        #expect(state.unreadable.isEmpty)
    }

    @Test("a full read replaces the state and names the shards that changed")
    func reset() {
        var state = ClusterState(keys: keys)
        state.apply(key: keys.leader(shard: "ledger-0"), value: leader("ledger-0-a", "127.0.0.1:7003", epoch: 3))
        state.apply(
            key: keys.leader(shard: "profile-0"), value: leader("profile-0-a", "127.0.0.1:7001", epoch: 1, service: "retain.v1.Profile"))
        let changed = state.reset(to: [
            (keys.leader(shard: "ledger-0"), leader("ledger-0-b", "127.0.0.1:7013", epoch: 4)),
            (keys.leader(shard: "growth-0"), leader("growth-0-a", "127.0.0.1:7002", epoch: 1, service: "retain.v1.Growth")),
        ])
        #expect(changed == ["ledger-0", "profile-0", "growth-0"])
        #expect(state.shards.keys.sorted() == ["growth-0", "ledger-0"])
        #expect(state.shards["ledger-0"]?.leader?.member == "ledger-0-b")
    }

    @Test("a shard's service comes from its leader, else its members, else a default shard name")
    func serviceOfShard() {
        var shard = ClusterState.Shard(name: "ledger-0")
        #expect(shard.service == "retain.v1.Ledger")
        #expect(ClusterState.Shard(name: "payments").service == nil)
        #expect(ClusterState.Shard(name: "Ledger-0").service == nil)
        shard.members["m"] = MemberRecord(member: "m", address: "a:1", service: "retain.v1.Growth", role: "replica", epoch: 1)
        #expect(shard.service == "retain.v1.Growth")
        shard.leader = LeaderRecord(member: "l", address: "a:2", epoch: 1, service: "retain.v1.Profile")
        #expect(shard.service == "retain.v1.Profile")
    }
}
