import Foundation
import Logging
import RetainCluster
import RetainEtcd
import RetainProcess
import RetainRPC
import Testing

/// A cluster for online resharding tests (docs/CLUSTER.md): a real etcd, three processes of one
/// service (`<service>-0..2`, the first two on ring version 1 in etcd, the third added by the
/// reshard), and a gateway that routes the service by its ring key; runs the `retain cluster
/// reshard` driver, optionally SIGKILLed after a step.
final class ReshardHarness: @unchecked Sendable {
    let root: URL
    let etcd: EtcdProcess
    let writer: EtcdClient
    let keys = ClusterKeys(cluster: "reshard")
    /// The service's short name (growth, feedback) and full name (retain.v1.Growth).
    let service: String
    let serviceName: String
    var shards: [String: ServerProcess] = [:]
    let gatewayProcess: ServerProcess
    let gateway: RPCClient

    init(service: String, arguments extra: [String] = []) async throws {
        self.service = service
        serviceName = "retain.v1.\(service.prefix(1).uppercased())\(service.dropFirst())"
        root = try makeTemporaryDirectory("retain-reshard")
        etcd = try EtcdProcess()
        writer = EtcdClient(endpoints: [etcd.endpoint], requestTimeout: .seconds(10), logger: Logger(label: "test"))
        var started: [String: ServerProcess] = [:]
        for index in 0..<3 {
            let directory = root.appendingPathComponent("\(service)-\(index)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            started["\(service)-\(index)"] = try ServerProcess(
                "retain-\(service)",
                arguments: [
                    "--data-dir", directory.path, "--durability", "interval:20", "--log-level", "warning", "--ops-port=-1",
                ] + extra)
        }
        shards = started
        let ring = RingRecord(
            version: 1, service: serviceName,
            instances: ["\(service)-0", "\(service)-1"].map { .init(id: $0, address: "127.0.0.1:\(started[$0]!.port)") })
        _ = try await writer.put(keys.ring(service: serviceName), Array(ring.json))
        gatewayProcess = try ServerProcess(
            "retain-gateway",
            arguments: [
                "--etcd-endpoints", etcd.endpoint, "--cluster", "reshard", "--health-interval-ms", "200", "--log-level", "warning",
                "--ops-port=-1",
            ])
        gateway = RPCClient(host: "127.0.0.1", port: gatewayProcess.port)
    }

    /// The service's ring in etcd; nil when there is none.
    func ring() async throws -> RingRecord? {
        try await writer.get(keys.ring(service: serviceName)).flatMap { RingRecord(json: Data($0.value)) }
    }

    /// A client of one shard, directly (no ring version sent).
    func client(_ shard: String) -> RPCClient { RPCClient(host: "127.0.0.1", port: shards[shard]!.port) }

    /// Runs `retain cluster reshard` with `arguments`; returns its exit status and output. With
    /// `step`, SIGKILLs it once it recorded that step (of group `group`, when given).
    func reshard(_ arguments: [String], killAfter step: String? = nil, group: Int? = nil) async throws -> (Int32, String) {
        let process = Process()
        process.executableURL = ServerProcess.buildDirectory.appendingPathComponent("retain")
        process.arguments =
            [
                "cluster", "reshard", "--etcd-endpoints", etcd.endpoint, "--cluster", "reshard", "--service", service,
                "--batch", "50",
            ] + arguments + (step.map { step in ["--pause-after", group.map { "\(step):\($0)" } ?? step] } ?? [])
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        if let step {
            let deadline = ContinuousClock.now + .seconds(30)
            while ContinuousClock.now < deadline {
                if let plan = try await writer.get(keys.reshard(service: serviceName)).map({ String(decoding: $0.value, as: UTF8.self) }),
                    plan.contains("\"step\":\"\(step)\""), group.map({ plan.contains("\"group\":\($0)") }) ?? true
                {
                    break
                }
                try await Task.sleep(for: .milliseconds(20))
            }
            kill(process.processIdentifier, SIGKILL)
        }
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitForExit()
        return (process.terminationStatus, text)
    }

    /// Adds `shard` to the ring with the driver SIGKILLed right after it fenced the moving users
    /// (they are refused, retryably, until it runs again), then runs the driver again, which must
    /// resume and finish. Returns both runs' output.
    func addKillingDriverAfterFence(_ shard: String) async throws -> (killed: String, resumed: String) {
        let (killed, killedOutput) = try await reshard(["--add", "\(shard)=127.0.0.1:\(shards[shard]!.port)"], killAfter: "fenced")
        #expect(killed != 0)
        try await Task.sleep(for: .milliseconds(300))
        let (status, output) = try await reshard([])
        #expect(status == 0, "\(output)")
        #expect(output.contains("resuming"), "\(output)")
        return (killedOutput, output)
    }

    /// Stops every process and removes the data.
    func stop() async {
        await gateway.close()
        await writer.shutdown()
        _ = gatewayProcess.stop()
        for shard in shards.values { _ = shard.stop() }
        etcd.shutdown()
        try? FileManager.default.removeItem(at: root)
    }
}
