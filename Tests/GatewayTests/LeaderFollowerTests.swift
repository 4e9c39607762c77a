import Foundation
import GatewayCore
import GatewayService
import Logging
import NIOCore
import RetainCluster
import RetainEtcd
import RetainProcess
import RetainProto
import RetainRPC
import Synchronization
import Testing

/// The gateway's leader table fed by a real etcd: the keys a shard's members write move the
/// gateway's calls, through a full read at start, a watch, and a watch opened again after etcd
/// restarted.
@Suite("Gateway follows leaders in etcd", .serialized)
struct LeaderFollowerTests {
    /// An Echo server that names itself in its answers.
    struct Member {
        let name: String
        let server: RPCServer
        let port: Int

        init(_ name: String) async throws {
            self.name = name
            var router = RPCRouter()
            router.unary(Retain_V1_Echo.echo) { request, _ in Retain_V1_EchoResponse(text: "\(name): \(request.text)") }
            var configuration = RPCServer.Configuration()
            configuration.port = 0
            server = RPCServer(router: router, configuration: configuration, logger: Logger(label: "member"))
            port = try await server.start().port!
        }

        func leader(epoch: Int64, service: String = "retain.v1.Echo") -> [UInt8] {
            Array(LeaderRecord(member: name, address: "127.0.0.1:\(port)", epoch: epoch, service: service, pid: 1).json)
        }

        func stop() async {
            server.drain()
            try? await server.waitForConnectionsToClose()
        }
    }

    /// A gateway routing by `LeaderFollower` on `etcd`, served on loopback.
    struct Gateway {
        let forwarder: Forwarder
        let server: RPCServer
        let client: RPCClient
        let etcd: EtcdClient
        let follower: Task<Void, any Error>

        init(endpoints: [String], cluster: String, topology: Topology = Topology(services: [])) async throws {
            let logger = Logger(label: "gateway")
            forwarder = Forwarder(topology: topology, logger: logger)
            var configuration = RPCServer.Configuration()
            configuration.port = 0
            server = RPCServer(router: GatewayService(forwarder: forwarder).router, configuration: configuration, logger: logger)
            client = RPCClient(host: "127.0.0.1", port: try await server.start().port!)
            etcd = EtcdClient(endpoints: endpoints, logger: logger)
            let follower = LeaderFollower(etcd: etcd, cluster: cluster, topology: topology, forwarder: forwarder, logger: logger)
            self.follower = Task { try await follower.run() }
        }

        func echo(_ text: String) async throws -> String {
            try await client.unary(Retain_V1_Echo.echo, Retain_V1_EchoRequest(text: text), options: CallOptions(timeout: .seconds(10))).text
        }

        /// Calls until the answer comes from `member` (the watch is asynchronous), within `timeout`.
        func waitUntilAnswered(by member: String, timeout: Duration = .seconds(10)) async throws {
            let deadline = ContinuousClock.now + timeout
            var last = ""
            while ContinuousClock.now < deadline {
                last = (try? await echo("probe")) ?? last
                if last.hasPrefix("\(member):") { return }
                try await Task.sleep(for: .milliseconds(20))
            }
            Issue.record("calls still answered by \(last) after \(timeout), not \(member)")
        }

        func close() async {
            follower.cancel()
            _ = try? await follower.value
            await client.close()
            server.drain()
            try? await server.waitForConnectionsToClose()
            await etcd.shutdown()
            await forwarder.close()
        }
    }

    @Test("a leader written before the gateway starts is read; later leaders are watched; a shard without one waits")
    func readsThenWatches() async throws {
        let etcd = try EtcdProcess()
        defer { etcd.shutdown() }
        let writer = EtcdClient(endpoints: [etcd.endpoint], requestTimeout: .seconds(10), logger: Logger(label: "writer"))
        let keys = ClusterKeys(cluster: "follow")
        let a = try await Member("echo-0-a")
        let b = try await Member("echo-0-b")
        try await writer.put(keys.leader(shard: "echo-0"), a.leader(epoch: 1))
        // Another cluster's keys change nothing.
        try await writer.put(ClusterKeys(cluster: "other").leader(shard: "echo-0"), b.leader(epoch: 9))

        let gateway = try await Gateway(endpoints: [etcd.endpoint], cluster: "follow")
        try await gateway.waitUntilAnswered(by: "echo-0-a")

        try await writer.put(keys.leader(shard: "echo-0"), b.leader(epoch: 2))
        try await gateway.waitUntilAnswered(by: "echo-0-b")

        // The leader's lease lapses: a call waits for the next leader rather than failing.
        try await writer.delete(keys.leader(shard: "echo-0"))
        try await Task.sleep(for: .milliseconds(200))
        async let answer = gateway.echo("during the election")
        try await Task.sleep(for: .milliseconds(300))
        try await writer.put(keys.leader(shard: "echo-0"), a.leader(epoch: 3))
        #expect(try await answer == "echo-0-a: during the election")

        await gateway.close()
        await writer.shutdown()
        await a.stop()
        await b.stop()
    }

    @Test("after etcd restarts, the gateway watches again from where it was and sees the next leader")
    func watchesAgainAfterEtcdRestarts() async throws {
        let etcd = try EtcdProcess()
        defer { etcd.shutdown() }
        let writer = EtcdClient(endpoints: [etcd.endpoint], requestTimeout: .seconds(10), logger: Logger(label: "writer"))
        let keys = ClusterKeys(cluster: "restart")
        let a = try await Member("echo-0-a")
        let b = try await Member("echo-0-b")
        try await writer.put(keys.leader(shard: "echo-0"), a.leader(epoch: 1))
        let gateway = try await Gateway(endpoints: [etcd.endpoint], cluster: "restart")
        try await gateway.waitUntilAnswered(by: "echo-0-a")

        try etcd.restart()
        try etcd.waitUntilHealthy()
        // While the gateway's watch is down, calls still go to the leader it knows.
        #expect(try await gateway.echo("meanwhile") == "echo-0-a: meanwhile")
        try await writer.put(keys.leader(shard: "echo-0"), b.leader(epoch: 2))
        try await gateway.waitUntilAnswered(by: "echo-0-b")

        await gateway.close()
        await writer.shutdown()
        await a.stop()
        await b.stop()
    }

    @Test("with a topology naming the shard, its ring is fixed from the start and its address follows etcd")
    func topologyAndEtcd() async throws {
        let etcd = try EtcdProcess()
        defer { etcd.shutdown() }
        let writer = EtcdClient(endpoints: [etcd.endpoint], requestTimeout: .seconds(10), logger: Logger(label: "writer"))
        let keys = ClusterKeys(cluster: "pinned")
        let a = try await Member("echo-0-a")
        let b = try await Member("echo-0-b")
        let topology = Topology(services: [
            Topology.Service(name: "retain.v1.Echo", instances: [Topology.Instance(id: "echo-0", host: "127.0.0.1", port: a.port)])
        ])
        let gateway = try await Gateway(endpoints: [etcd.endpoint], cluster: "pinned", topology: topology)
        #expect(try await gateway.echo("before etcd") == "echo-0-a: before etcd")
        try await writer.put(
            keys.member("echo-0-b", shard: "echo-0"),
            Array(
                MemberRecord(
                    member: "echo-0-b", address: "127.0.0.1:\(b.port)", service: "retain.v1.Echo", role: "candidate", epoch: 1
                ).json))
        try await writer.put(keys.leader(shard: "echo-0"), b.leader(epoch: 1))
        try await gateway.waitUntilAnswered(by: "echo-0-b")
        await gateway.close()
        await writer.shutdown()
        await a.stop()
        await b.stop()
    }
}
