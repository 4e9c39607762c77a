import Foundation
import Logging
import RetainCluster
import RetainEtcd
import RetainProcess
import Testing

/// `retain cluster status` against keys written in a real etcd, as the services write them.
@Suite("retain cluster status", .serialized)
struct ClusterStatusTests {
    func retain(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = ServerProcess.buildDirectory.appendingPathComponent("retain")
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitForExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }

    @Test("--json: every shard with its leader, epoch, sync set and members' role, lag, address and pid; a member gone is down")
    func json() async throws {
        let etcd = try EtcdProcess()
        defer { etcd.shutdown() }
        let client = EtcdClient(endpoints: [etcd.endpoint], requestTimeout: .seconds(10), logger: Logger(label: "test"))
        let keys = ClusterKeys(cluster: "status")
        func put(_ key: String, _ value: Data) async throws { try await client.put(key, Array(value)) }
        try await put(
            keys.leader(shard: "ledger-0"),
            LeaderRecord(
                member: "ledger-0-a", address: "127.0.0.1:7003", epoch: 3,
                service: "retain.v1.Ledger", pid: 101
            ).json)
        try await put(
            keys.member("ledger-0-a", shard: "ledger-0"),
            MemberRecord(
                member: "ledger-0-a", address: "127.0.0.1:7003", service: "retain.v1.Ledger", role: "leader", epoch: 3,
                lastSequence: 500, durableSequence: 500, committedSequence: 498, lagRecords: 0, lagMs: 0, pid: 101,
                dataDir: "/data/ledger-0-a", updatedUnixMs: 1_700_000_000_000
            ).json)
        try await put(
            keys.member("ledger-0-b", shard: "ledger-0"),
            MemberRecord(
                member: "ledger-0-b", address: "127.0.0.1:7013", service: "retain.v1.Ledger", role: "replica", epoch: 3,
                lastSequence: 498, durableSequence: 498, committedSequence: 498, lagRecords: 2, lagMs: 7, pid: 102
            ).json)
        try await put(
            keys.sync(shard: "ledger-0"),
            SyncRecord(
                leader: "ledger-0-a", epoch: 3, members: ["ledger-0-b", "ledger-0-c"],
                required: 1
            ).json)
        try await put(keys.epoch(shard: "ledger-0"), EpochValue.encode(3))
        try await put(keys.epoch(shard: "profile-0"), EpochValue.encode(1))
        try await put(ClusterKeys(cluster: "other").epoch(shard: "growth-0"), EpochValue.encode(1))
        await client.shutdown()

        let result = try retain([
            "cluster", "status", "--etcd-endpoints", etcd.endpoint, "--cluster", "status", "--json", "--timeout", "10",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let root = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(root["cluster"] as? String == "status")
        let shards = try #require(root["shards"] as? [[String: Any]])
        #expect(shards.map { $0["shard"] as? String } == ["ledger-0", "profile-0"])
        let ledger = shards[0]
        #expect(ledger["service"] as? String == "retain.v1.Ledger")
        #expect(ledger["epoch"] as? Int == 3)
        let leader = try #require(ledger["leader"] as? [String: Any])
        #expect(
            leader["member"] as? String == "ledger-0-a" && leader["address"] as? String == "127.0.0.1:7003" && leader["pid"] as? Int == 101)
        let members = try #require(ledger["members"] as? [[String: Any]])
        #expect(members.map { $0["member"] as? String } == ["ledger-0-a", "ledger-0-b", "ledger-0-c"])
        #expect(members.map { $0["role"] as? String } == ["leader", "replica", "down"])
        #expect(members.map { $0["alive"] as? Bool } == [true, true, false])
        #expect(members.map { $0["sync"] as? Bool } == [false, true, true])
        #expect(members[1]["lag_records"] as? Int == 2 && members[1]["lag_ms"] as? Int == 7)
        #expect(members[1]["address"] as? String == "127.0.0.1:7013" && members[1]["pid"] as? Int == 102)
        #expect(members[0]["data_dir"] as? String == "/data/ledger-0-a")
        let profile = shards[1]
        #expect(profile["leader"] == nil, "no leader: the key is left out")
        #expect(profile["service"] as? String == "retain.v1.Profile")

        let text = try retain(["cluster", "status", "--etcd-endpoints", etcd.endpoint, "--cluster", "status", "--timeout", "10"])
        #expect(text.status == 0)
        #expect(text.stdout.contains("ledger-0  retain.v1.Ledger  leader ledger-0-a at 127.0.0.1:7003  epoch 3"), "\(text.stdout)")
        #expect(text.stdout.contains("leader NONE"))
        #expect(text.stdout.contains("ledger-0-c*"))
    }

    @Test("an etcd that does not answer: exit 14 and a message naming it")
    func unreachable() throws {
        let port = 1  // nothing listens on tcpmux
        let result = try retain(["cluster", "status", "--etcd-endpoints", "http://127.0.0.1:\(port)", "--timeout", "1"])
        #expect(result.status == 14)
        #expect(result.stderr.contains("UNAVAILABLE") && result.stderr.contains("127.0.0.1:\(port)"), "\(result.stderr)")
    }

    @Test("rings: every ring key with its instances' points, and the reshard in progress, in text and JSON")
    func rings() async throws {
        let etcd = try EtcdProcess()
        defer { etcd.shutdown() }
        let client = EtcdClient(endpoints: [etcd.endpoint], requestTimeout: .seconds(10), logger: Logger(label: "test"))
        let keys = ClusterKeys(cluster: "status")
        let ring = RingRecord(
            version: 3, service: "retain.v1.Growth",
            instances: [
                .init(id: "growth-0", address: "127.0.0.1:7002"), .init(id: "growth-1", address: "127.0.0.1:7012"),
                .init(id: "growth-2", address: "127.0.0.1:7022", points: 32),
            ])
        try await client.put(keys.ring(service: "retain.v1.Growth"), Array(ring.json))
        let plan =
            #"{"from":{"version":1,"service":"retain.v1.Growth","instances":[]},"to":{"version":9,"service":"retain.v1.Growth","instances":[]},"step":"fenced","group":3,"groups":8}"#
        try await client.put(keys.reshard(service: "retain.v1.Growth"), Array(plan.utf8))
        await client.shutdown()

        let text = try retain(["cluster", "status", "--etcd-endpoints", etcd.endpoint, "--cluster", "status", "--timeout", "10"])
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.contains("ring retain.v1.Growth v3: growth-0, growth-1, growth-2 (32/128 points)"), "\(text.stdout)")
        #expect(text.stdout.contains("reshard in progress: group 3 of 8, step 'fenced', ends at ring v9"), "\(text.stdout)")
        let json = try retain(["cluster", "status", "--etcd-endpoints", etcd.endpoint, "--cluster", "status", "--json", "--timeout", "10"])
        let root = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let rings = try #require(root["rings"] as? [[String: Any]])
        #expect(rings.count == 1 && rings[0]["service"] as? String == "retain.v1.Growth" && rings[0]["version"] as? Int == 3)
        let instances = try #require(rings[0]["instances"] as? [[String: Any]])
        #expect(instances.map { $0["points"] as? Int } == [nil, nil, 32])
        let reshard = try #require(rings[0]["reshard"] as? [String: Any])
        #expect(reshard["group"] as? Int == 3 && reshard["groups"] as? Int == 8 && reshard["step"] as? String == "fenced")
        #expect(reshard["to_version"] as? Int == 9)
    }
}
