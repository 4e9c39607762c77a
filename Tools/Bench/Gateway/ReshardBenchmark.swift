package import ArgumentParser
import Foundation
import Logging
import RetainCluster
import RetainEtcd
import RetainProcess
import RetainProto
import RetainRPC
import Synchronization

/// `retain-bench reshard`: Growth grown from 2 to 3 shards by `retain cluster reshard` while
/// closed-loop workers send awards through the gateway (docs/CLUSTER.md): the reshard's time,
/// awards a second before and during it, the longest an award took to be acknowledged (its
/// retries included) and the attempts refused on the way.
package struct ReshardBenchmark: AsyncParsableCommand {
    package static let configuration = CommandConfiguration(
        commandName: "reshard", abstract: "Measure growing Growth from 2 to 3 shards under award load (time, calls/s before and during).")

    @Option(help: "Users with growth before the reshard.")
    var users: Int = 20_000

    @Option(help: "Closed-loop workers sending awards through the gateway.")
    var workers: Int = 8

    @Option(help: "Seconds of load measured before the reshard.")
    var before: Double = 3

    package init() {}

    final class Counters: Sendable {
        struct State {
            var acknowledged = 0
            var refused = 0
            var longest: Duration = .zero
            var stopped = false
        }
        let state = Mutex(State())
    }

    package func run() async throws {
        let root = try makeTemporaryDirectory("retain-reshard-bench")
        defer { try? FileManager.default.removeItem(at: root) }
        let etcd = try EtcdProcess()
        defer { etcd.shutdown() }
        let writer = EtcdClient(endpoints: [etcd.endpoint], requestTimeout: .seconds(10), logger: Logger(label: "bench"))
        var shards: [ServerProcess] = []
        defer { for shard in shards { _ = shard.stop() } }
        for index in 0..<3 {
            let directory = root.appendingPathComponent("growth-\(index)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            shards.append(
                try ServerProcess(
                    "retain-growth",
                    arguments: [
                        "--data-dir", directory.path, "--durability", "interval:20", "--log-level", "warning", "--ops-port=-1",
                        "--allow-client-times",
                    ]))
        }
        let keys = ClusterKeys(cluster: "bench")
        let ring = RingRecord(
            version: 1, service: "retain.v1.Growth",
            instances: (0..<2).map { .init(id: "growth-\($0)", address: "127.0.0.1:\(shards[$0].port)") })
        _ = try await writer.put(keys.ring(service: "retain.v1.Growth"), Array(ring.json))
        let gatewayProcess = try ServerProcess(
            "retain-gateway",
            arguments: ["--etcd-endpoints", etcd.endpoint, "--cluster", "bench", "--log-level", "warning", "--ops-port=-1"])
        defer { _ = gatewayProcess.stop() }
        let gateway = RPCClient(host: "127.0.0.1", port: gatewayProcess.port)
        let at = Int64(Date().timeIntervalSince1970 * 1000) - 3_600_000

        // The users, each on its owner of the 2-shard ring.
        let old = HashRing(instanceIDs: ["growth-0", "growth-1"])
        let direct = shards.prefix(2).map { RPCClient(host: "127.0.0.1", port: $0.port) }
        let users = users
        let loadStart = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<64 {
                group.addTask {
                    var user = worker
                    while user < users {
                        let id = String(format: "rb%07d", user)
                        _ = try await direct[old.owner(of: id) ?? 0].unary(
                            Retain_V1_Growth.awardGrowth, .init(userId: id, action: "sign_up", idempotencyKey: "s", occurredAtMs: at))
                        user += 64
                    }
                }
            }
            try await group.waitForAll()
        }
        for client in direct { await client.close() }
        print("retain-bench reshard: \(users) users loaded on 2 Growth shards in \(Self.seconds(ContinuousClock.now - loadStart)) s")
        _ = try await gateway.unary(Retain_V1_Growth.getLevelTiers, .init())

        let counters = Counters()
        let load = Task {
            await withTaskGroup(of: Void.self) { group in
                for worker in 0..<workers {
                    group.addTask { await Self.awards(gateway, counters, users: users, at: at, worker: worker) }
                }
            }
        }
        try await Task.sleep(for: .milliseconds(500))
        let (ackBefore, startBefore) = (counters.state.withLock { $0.acknowledged }, ContinuousClock.now)
        try await Task.sleep(for: .milliseconds(Int64(before * 1000)))
        let beforeRate = Double(counters.state.withLock { $0.acknowledged } - ackBefore) / Self.seconds(ContinuousClock.now - startBefore)
        counters.state.withLock {
            $0.longest = .zero
            $0.refused = 0
        }

        let ackStart = counters.state.withLock { $0.acknowledged }
        let reshardStart = ContinuousClock.now
        let driver = Process()
        driver.executableURL = ServerProcess.buildDirectory.appendingPathComponent("retain")
        driver.arguments = [
            "cluster", "reshard", "--etcd-endpoints", etcd.endpoint, "--cluster", "bench", "--service", "growth",
            "--add", "growth-2=127.0.0.1:\(shards[2].port)",
        ]
        let output = Pipe()
        driver.standardOutput = output
        driver.standardError = output
        try driver.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        driver.waitUntilExit()
        let reshardSeconds = Self.seconds(ContinuousClock.now - reshardStart)
        let during = counters.state.withLock { $0 }
        counters.state.withLock { $0.stopped = true }
        await load.value
        await gateway.close()
        await writer.shutdown()
        print(text, terminator: "")
        guard driver.terminationStatus == 0 else { throw ExitCode(driver.terminationStatus) }
        let duringRate = Double(during.acknowledged - ackStart) / reshardSeconds
        print("")
        print("reshard 2 -> 3 shards  awards/s before  awards/s during  longest award (retries included)  attempts refused")
        print(
            String(
                format: "%17.2f s  %15.0f  %15.0f  %29.0f ms  %16d", reshardSeconds, beforeRate, duringRate,
                Double(during.longest / .microseconds(1)) / 1000, during.refused))
    }

    /// Closed-loop awards through the gateway, each sent again with its key until acknowledged.
    static func awards(_ gateway: RPCClient, _ counters: Counters, users: Int, at: Int64, worker: Int) async {
        var sent = 0
        var random = SystemRandomNumberGenerator()
        while !counters.state.withLock({ $0.stopped }) {
            let user = String(format: "rb%07d", Int.random(in: 0..<users, using: &random))
            let request = Retain_V1_AwardGrowthRequest(
                userId: user, action: "purchase", idempotencyKey: "w\(worker)-\(sent)", value: 100, occurredAtMs: at + Int64(sent))
            sent += 1
            let start = ContinuousClock.now
            while !counters.state.withLock({ $0.stopped }) {
                do {
                    _ = try await gateway.unary(Retain_V1_Growth.awardGrowth, request, options: CallOptions(timeout: .seconds(10)))
                    let took = ContinuousClock.now - start
                    counters.state.withLock {
                        $0.acknowledged += 1
                        $0.longest = max($0.longest, took)
                    }
                    break
                } catch {
                    counters.state.withLock { $0.refused += 1 }
                    try? await Task.sleep(for: .milliseconds(5))
                }
            }
        }
    }

    static func seconds(_ duration: Duration) -> Double { Double(duration / .milliseconds(1)) / 1000 }
}
