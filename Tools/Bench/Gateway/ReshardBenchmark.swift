package import ArgumentParser
import Foundation
import Logging
import RetainCluster
import RetainEtcd
import RetainProcess
import RetainProto
import RetainRPC
import Synchronization

/// `retain-bench reshard`: Growth (or Profile) grown from 2 to 3 shards by `retain cluster
/// reshard` while closed-loop workers send writes through the gateway (Growth: awards; Profile:
/// activities) (docs/CLUSTER.md): the reshard's time, writes a second before and during it,
/// their latency during it (retries included: p50, p99, the longest) and the attempts refused
/// on the way.
package struct ReshardBenchmark: AsyncParsableCommand {
    package static let configuration = CommandConfiguration(
        commandName: "reshard",
        abstract: "Measure growing Growth or Profile from 2 to 3 shards under write load (time, calls/s before and during).")

    @Option(help: "Users before the reshard.")
    var users: Int = 20_000

    @Option(help: "The service resharded: growth (awards) or profile (activities).")
    var service: String = "growth"

    @Option(help: "The driver's --group-size.")
    var groupSize: Int = 5000

    @Option(help: "The driver's --max-bytes-per-second.")
    var maxBytesPerSecond: Int = 8_000_000

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
            var latencies: [Duration] = []
            var stopped = false
        }
        let state = Mutex(State())
    }

    package func validate() throws {
        guard ["growth", "profile"].contains(service) else { throw ValidationError("--service must be growth or profile") }
    }

    var serviceName: String { service == "growth" ? "retain.v1.Growth" : "retain.v1.Profile" }

    package func run() async throws {
        let service = service
        let root = try makeTemporaryDirectory("retain-reshard-bench")
        defer { try? FileManager.default.removeItem(at: root) }
        let etcd = try EtcdProcess()
        defer { etcd.shutdown() }
        let writer = EtcdClient(endpoints: [etcd.endpoint], requestTimeout: .seconds(10), logger: Logger(label: "bench"))
        var shards: [ServerProcess] = []
        defer { for shard in shards { _ = shard.stop() } }
        for index in 0..<3 {
            let directory = root.appendingPathComponent("\(service)-\(index)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            shards.append(
                try ServerProcess(
                    "retain-\(service)",
                    arguments: [
                        "--data-dir", directory.path, "--durability", "interval:20", "--log-level", "warning", "--ops-port=-1",
                    ] + (service == "growth" ? ["--allow-client-times"] : [])))
        }
        let keys = ClusterKeys(cluster: "bench")
        let ring = RingRecord(
            version: 1, service: serviceName,
            instances: (0..<2).map { .init(id: "\(service)-\($0)", address: "127.0.0.1:\(shards[$0].port)") })
        _ = try await writer.put(keys.ring(service: serviceName), Array(ring.json))
        let gatewayProcess = try ServerProcess(
            "retain-gateway",
            arguments: ["--etcd-endpoints", etcd.endpoint, "--cluster", "bench", "--log-level", "warning", "--ops-port=-1"])
        defer { _ = gatewayProcess.stop() }
        let gateway = RPCClient(host: "127.0.0.1", port: gatewayProcess.port)
        let at = Int64(Date().timeIntervalSince1970 * 1000) - 3_600_000

        // The users, each on its owner of the 2-shard ring.
        let old = HashRing(instanceIDs: ["\(service)-0", "\(service)-1"])
        let direct = shards.prefix(2).map { RPCClient(host: "127.0.0.1", port: $0.port) }
        let users = users
        let loadStart = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<64 {
                group.addTask {
                    var user = worker
                    while user < users {
                        let id = String(format: "rb%07d", user)
                        let client = direct[old.owner(of: id) ?? 0]
                        if service == "growth" {
                            _ = try await client.unary(
                                Retain_V1_Growth.awardGrowth, .init(userId: id, action: "sign_up", idempotencyKey: "s", occurredAtMs: at))
                        } else {
                            _ = try await client.unary(Retain_V1_Profile.registerUser, .init(userId: id, channel: "bench"))
                        }
                        user += 64
                    }
                }
            }
            try await group.waitForAll()
        }
        for client in direct { await client.close() }
        print("retain-bench reshard: \(users) users loaded on 2 \(service) shards in \(Self.seconds(ContinuousClock.now - loadStart)) s")
        for _ in 0..<100 {
            // The gateway routes the service by the ring key once its watch delivered it.
            if (try? await gateway.unary(Retain_V1_Growth.getLevelTiers, .init())) != nil || service == "profile" { break }
            try await Task.sleep(for: .milliseconds(50))
        }

        let counters = Counters()
        let load = Task {
            await withTaskGroup(of: Void.self) { group in
                for worker in 0..<workers {
                    group.addTask { await Self.writes(service, gateway, counters, users: users, at: at, worker: worker) }
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
            $0.latencies = []
        }

        let ackStart = counters.state.withLock { $0.acknowledged }
        let reshardStart = ContinuousClock.now
        let driver = Process()
        driver.executableURL = ServerProcess.buildDirectory.appendingPathComponent("retain")
        driver.arguments = [
            "cluster", "reshard", "--etcd-endpoints", etcd.endpoint, "--cluster", "bench", "--service", service,
            "--add", "\(service)-2=127.0.0.1:\(shards[2].port)", "--group-size", String(groupSize),
            "--max-bytes-per-second", String(maxBytesPerSecond),
        ]
        let output = Pipe()
        driver.standardOutput = output
        driver.standardError = output
        try driver.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        driver.waitForExit()
        let reshardSeconds = Self.seconds(ContinuousClock.now - reshardStart)
        let during = counters.state.withLock { $0 }
        counters.state.withLock { $0.stopped = true }
        await load.value
        await gateway.close()
        await writer.shutdown()
        print(text, terminator: "")
        guard driver.terminationStatus == 0 else { throw ExitCode(driver.terminationStatus) }
        let duringRate = Double(during.acknowledged - ackStart) / reshardSeconds
        let sorted = during.latencies.sorted()
        func quantile(_ q: Double) -> Double {
            sorted.isEmpty ? 0 : Double(sorted[min(sorted.count - 1, Int(Double(sorted.count) * q))] / .microseconds(1)) / 1000
        }
        print("")
        print(
            "\(service) reshard 2 -> 3 shards  writes/s before  writes/s during  during p50 / p99 / longest (retries included)  attempts refused"
        )
        print(
            String(
                format: "%24.2f s  %15.0f  %15.0f  %12.1f / %.1f / %.0f ms  %32d", reshardSeconds, beforeRate, duringRate, quantile(0.5),
                quantile(0.99), Double(during.longest / .microseconds(1)) / 1000, during.refused))
    }

    /// Closed-loop writes through the gateway (awards, or activities), each sent again with its
    /// key until acknowledged.
    static func writes(_ service: String, _ gateway: RPCClient, _ counters: Counters, users: Int, at: Int64, worker: Int) async {
        var sent = 0
        var random = SystemRandomNumberGenerator()
        while !counters.state.withLock({ $0.stopped }) {
            let user = String(format: "rb%07d", Int.random(in: 0..<users, using: &random))
            let key = "w\(worker)-\(sent)"
            let award = Retain_V1_AwardGrowthRequest(
                userId: user, action: "purchase", idempotencyKey: key, value: 100, occurredAtMs: at + Int64(sent))
            let activity = Retain_V1_RecordActivityRequest(userId: user, eventId: key, kind: "login")
            sent += 1
            let start = ContinuousClock.now
            while !counters.state.withLock({ $0.stopped }) {
                do {
                    if service == "growth" {
                        _ = try await gateway.unary(Retain_V1_Growth.awardGrowth, award, options: CallOptions(timeout: .seconds(10)))
                    } else {
                        _ = try await gateway.unary(Retain_V1_Profile.recordActivity, activity, options: CallOptions(timeout: .seconds(10)))
                    }
                    let took = ContinuousClock.now - start
                    counters.state.withLock {
                        $0.acknowledged += 1
                        $0.longest = max($0.longest, took)
                        $0.latencies.append(took)
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
