import Foundation
import GatewayCore
import RetainLauncher
import RetainProcess
import Testing

/// What `retain up` starts, worked out from its flags: today's suite unchanged, and with
/// `--replicas 3` an etcd, three members per service and a gateway following their leaders.
@Suite("retain up's plan")
struct SuitePlanTests {
    let data = URL(fileURLWithPath: "/srv/retain")
    let services: [SuitePlan.ServicePorts] = [
        .init(name: "profile", port: 7001, opsPort: 9001), .init(name: "growth", port: 7002, opsPort: 9002),
        .init(name: "ledger", port: 7003, opsPort: 9003), .init(name: "feedback", port: 7004, opsPort: 9004),
    ]

    func plan(_ replication: SuitePlan.Replication?, built: Set<String>? = nil) -> SuitePlan {
        SuitePlan(
            data: data, host: "127.0.0.1", services: services, gateway: (7000, 9000),
            gatewayArguments: ["--api-keys-file", "/srv/retain/secrets/api-keys.json"],
            topologyFile: data.appendingPathComponent("gateway/topology.json"), replication: replication,
            isBuilt: { built?.contains($0) ?? true })
    }

    @Test("without --replicas: one process per service and a gateway with a topology, as before")
    func singleProcessSuite() throws {
        let plan = plan(nil)
        #expect(plan.etcd == nil && plan.etcdEndpoint == nil)
        #expect(plan.members.map(\.name) == ["profile", "growth", "ledger", "feedback", "gateway"])
        let ledger = plan.members[2]
        #expect(
            ledger.arguments(host: "127.0.0.1", logLevel: "info") == [
                "--host", "127.0.0.1", "--port", "7003", "--ops-port", "9003", "--log-level", "info", "--data-dir", "/srv/retain/ledger",
            ])
        #expect(ledger.readyPath == "/readyz")
        let gateway = try #require(plan.members.last)
        #expect(
            gateway.arguments(host: "127.0.0.1", logLevel: "info") == [
                "--host", "127.0.0.1", "--port", "7000", "--ops-port", "9000", "--log-level", "info",
                "--topology", "/srv/retain/gateway/topology.json", "--api-keys-file", "/srv/retain/secrets/api-keys.json",
            ])
        #expect(plan.topology.services["retain.v1.Ledger"]?.instances == [Topology.Instance(id: "ledger-0", host: "127.0.0.1", port: 7003)])
        #expect(Set(plan.ports).count == 10)
    }

    @Test("--replicas 3: etcd in the data directory, members a, b, c of each shard on ports + 10k, a gateway on etcd")
    func replicatedSuite() throws {
        var replication = SuitePlan.Replication(replicas: 3)
        replication.leaseTTL = 2
        let plan = plan(replication)
        let etcd = try #require(plan.etcd)
        #expect(etcd.dataDirectory?.path == "/srv/retain/etcd")
        #expect(etcd.clientPort == 2379 && etcd.peerPort == 2380)
        #expect(plan.etcdEndpoint == "http://127.0.0.1:2379")
        #expect(
            plan.members.map(\.name) == [
                "profile-0-a", "profile-0-b", "profile-0-c", "growth-0-a", "growth-0-b", "growth-0-c",
                "ledger-0-a", "ledger-0-b", "ledger-0-c", "feedback-0-a", "feedback-0-b", "feedback-0-c", "gateway",
            ])
        let ledgerB = try #require(plan.members.first { $0.name == "ledger-0-b" })
        #expect(ledgerB.executable == "retain-ledger")
        #expect(ledgerB.service == "retain.v1.Ledger")
        #expect(ledgerB.readyPath == "/healthz", "a replica is alive but not ready")
        #expect(
            ledgerB.arguments(host: "127.0.0.1", logLevel: "info") == [
                "--host", "127.0.0.1", "--port", "7013", "--ops-port", "9013", "--log-level", "info",
                "--data-dir", "/srv/retain/ledger-0-b",
                "--etcd-endpoints", "http://127.0.0.1:2379", "--cluster", "retain", "--shard", "ledger-0",
                "--member", "ledger-0-b", "--advertise", "127.0.0.1:7013", "--lease-ttl", "2",
            ])
        #expect(plan.members.first { $0.name == "profile-0-c" }?.port == 7021)
        let gateway = try #require(plan.members.last)
        #expect(
            gateway.arguments(host: "127.0.0.1", logLevel: "info") == [
                "--host", "127.0.0.1", "--port", "7000", "--ops-port", "9000", "--log-level", "info",
                "--topology", "/srv/retain/gateway/topology.json", "--etcd-endpoints", "http://127.0.0.1:2379",
                "--cluster", "retain", "--api-keys-file", "/srv/retain/secrets/api-keys.json",
            ])
        #expect(plan.topology.services["retain.v1.Ledger"]?.instances.map(\.id) == ["ledger-0"], "the ring's instance is the shard")
        #expect(Set(plan.ports).count == plan.ports.count && plan.ports.count == 13 * 2 + 2)
    }

    @Test("a shard of one member waits for no replica; a service not built is left out")
    func oneReplicaAndSkipped() throws {
        let plan = plan(SuitePlan.Replication(replicas: 1), built: ["retain-ledger", "retain-gateway"])
        #expect(plan.members.map(\.name) == ["ledger-0-a", "gateway"])
        #expect(plan.skipped == ["retain-profile", "retain-growth", "retain-feedback"])
        let arguments = try #require(plan.members.first).arguments(host: "127.0.0.1", logLevel: "info")
        #expect(arguments.suffix(2) == ["--sync-replicas", "0"])
        #expect(plan.topology.services.keys.sorted() == ["retain.v1.Ledger"])
    }

    @Test("listening on every address, members advertise loopback")
    func advertisedAddress() throws {
        let plan = SuitePlan(
            data: data, host: "0.0.0.0", services: services, gateway: (7000, 9000), gatewayArguments: [],
            topologyFile: data.appendingPathComponent("gateway/topology.json"),
            replication: SuitePlan.Replication(replicas: 2), isBuilt: { _ in true })
        let member = try #require(plan.members.first { $0.name == "growth-0-b" })
        let arguments = member.arguments(host: "0.0.0.0", logLevel: "info")
        #expect(arguments.contains("0.0.0.0"))
        let advertise = try #require(arguments.firstIndex(of: "--advertise"))
        #expect(arguments[advertise + 1] == "127.0.0.1:7012")
    }
}
