import Foundation
import GatewayCore
import RetainProcess
import RetainProto
import RetainRPC
import RetainWire
import Testing

/// Profile, Growth and Feedback as `shards` real processes each behind a real `retain-gateway`,
/// next to one reference instance of each holding every user: the same workload sent to both
/// must give the same reports (docs/CLUSTER.md). Credential checks are off (the explicit
/// insecure mode); the gateway reads a topology naming the shards `profile-0`, `profile-1`, ...
final class ShardedCluster: @unchecked Sendable {
    /// A sharded service of the cluster.
    enum Service: String, CaseIterable, Sendable {
        case profile, growth, feedback

        var serviceName: String { "retain.v1.\(rawValue.prefix(1).uppercased())\(rawValue.dropFirst())" }
    }

    let shards: Int
    let root: URL
    /// Each shard's process, by shard id (`profile-1`).
    private(set) var members: [String: ServerProcess] = [:]
    private var references: [Service: ServerProcess] = [:]
    private var gatewayProcess: ServerProcess?
    /// A client of the gateway.
    let gateway: RPCClient
    /// A client of each reference instance.
    private let referenceClients: [Service: RPCClient]
    /// Clients of each shard directly, by shard id.
    private let shardClients: [String: RPCClient]

    init(shards: Int) throws {
        self.shards = shards
        root = try makeTemporaryDirectory("retain-cluster")
        do {
            var topology: [Topology.Service] = []
            for service in Service.allCases {
                references[service] = try Self.start(service, directory: root.appendingPathComponent("\(service.rawValue)-reference"))
                var instances: [Topology.Instance] = []
                for index in 0..<shards {
                    let id = "\(service.rawValue)-\(index)"
                    let process = try Self.start(service, directory: root.appendingPathComponent(id))
                    members[id] = process
                    instances.append(Topology.Instance(id: id, host: "127.0.0.1", port: process.port))
                }
                topology.append(Topology.Service(name: service.serviceName, instances: instances))
            }
            let file = root.appendingPathComponent("topology.json")
            try Topology(services: topology).encoded().write(to: file)
            gatewayProcess = try ServerProcess(
                "retain-gateway",
                arguments: [
                    "--topology", file.path, "--health-interval-ms", "200", "--log-level", "warning", "--ops-port=-1",
                ])
        } catch {
            for process in Array(members.values) + Array(references.values) { process.kill() }
            try? FileManager.default.removeItem(at: root)
            throw error
        }
        gateway = RPCClient(host: "127.0.0.1", port: gatewayProcess!.port)
        referenceClients = references.mapValues { RPCClient(host: "127.0.0.1", port: $0.port) }
        shardClients = members.mapValues { RPCClient(host: "127.0.0.1", port: $0.port) }
    }

    private static func start(_ service: Service, directory: URL) throws -> ServerProcess {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var arguments = ["--data-dir", directory.path, "--durability", "interval:20", "--log-level", "warning", "--ops-port=-1"]
        if service == .growth { arguments.append("--allow-client-times") }
        return try ServerProcess("retain-\(service.rawValue)", arguments: arguments)
    }

    /// The gateway's port.
    var gatewayPort: Int { gatewayProcess?.port ?? 0 }

    /// The reference instance of `service`.
    func reference(_ service: Service) -> RPCClient { referenceClients[service]! }

    /// Shard `id` called directly.
    func shard(_ id: String) -> RPCClient { shardClients[id]! }

    /// Waits until the gateway has every shard in rotation.
    func waitUntilServing() async throws {
        let deadline = ContinuousClock.now + .seconds(20)
        while true {
            let backends = try? await gateway.unary(Retain_V1_Gateway.listBackends, .init()).backends
            if let backends, backends.count == shards * Service.allCases.count, backends.allSatisfy(\.inRotation) { return }
            guard ContinuousClock.now < deadline else { throw RPCError(.unavailable, "the cluster's shards are not all in rotation") }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Kills shard `id` (SIGKILL).
    func kill(_ id: String) { members[id]?.kill() }

    func stop() async {
        await gateway.close()
        for client in Array(referenceClients.values) + Array(shardClients.values) { await client.close() }
        _ = gatewayProcess?.stop()
        for process in Array(members.values) + Array(references.values) { _ = process.stop() }
        try? FileManager.default.removeItem(at: root)
    }
}

/// Where a workload goes: the reference instances, or the gateway in front of the shards.
struct ClusterTarget: Sendable {
    let client: @Sendable (ShardedCluster.Service) -> RPCClient
    var options = CallOptions(timeout: .seconds(20))

    func call<I, O>(_ service: ShardedCluster.Service, _ method: RPCMethod<I, O>, _ request: I) async throws -> O {
        try await client(service).unary(method, request, options: options)
    }

    static func reference(_ cluster: ShardedCluster) -> ClusterTarget { ClusterTarget { cluster.reference($0) } }
    static func gateway(_ cluster: ShardedCluster) -> ClusterTarget { ClusterTarget { _ in cluster.gateway } }
}
