package import ArgumentParser
import Foundation
import GatewayCore
import RetainCluster
import RetainProto
import RetainProcess
import RetainRPC

/// `retain-bench cluster`: GetRetention, CountSegment and ListChurnWarnings through the gateway over one Profile
/// instance and over N shards holding the same users (docs/CLUSTER.md), p50 and p99 of
/// sequential calls; with `--growth-users`, GetRank over one Growth instance and over N Growth
/// shards (the user's shard, then every shard's board position). The users are loaded into each
/// instance directly (each user to its owner on the gateway's ring), so the figures are of the
/// reports only.
package struct ClusterBenchmark: AsyncParsableCommand {
    package static let configuration = CommandConfiguration(
        commandName: "cluster",
        abstract: "Measure GetRetention, CountSegment and ListChurnWarnings through the gateway on 1 vs N Profile shards (p50/p99).")

    @Option(help: "Users registered (the same users on 1 and on N shards).")
    var users: Int = 100_000

    @Option(help: "Shards of the sharded run.")
    var shards: Int = 4

    @Option(help: "Sequential calls of each report per run.")
    var calls: Int = 200

    @Option(help: "Calls in flight while loading.")
    var concurrency: Int = 64

    @Option(help: "Growth users awarded for GetRank (0: no Growth run).")
    var growthUsers: Int = 0

    package init() {}

    static let day: Int64 = 86_400_000
    static let channels = ["organic", "ads", "social", "app_store", "referral"]

    package func run() async throws {
        let today = Int64(Date().timeIntervalSince1970 * 1000) / Self.day * Self.day
        let base = today - 60 * Self.day
        print(
            "retain-bench cluster: \(users) users registered over 60 days on \(Self.channels.count) channels, ~2 activity days each; loopback"
        )
        print("reports through the gateway, \(calls) sequential calls each; GetRetention: 60 daily cohorts by channel, days 1, 7 and 30")
        print("")
        var rows: [[String]] = []
        for shardCount in [1, shards] {
            let cluster = try await Cluster.start(shards: shardCount, growth: growthUsers > 0 ? shardCount : 0)
            defer { cluster.stop() }
            let loadStart = ContinuousClock.now
            try await load(cluster, base: base)
            let loadSeconds = Double((ContinuousClock.now - loadStart) / .milliseconds(1)) / 1000
            let client = RPCClient(host: "127.0.0.1", port: cluster.gateway.port)
            let retention = Retain_V1_GetRetentionRequest(
                granularity: .day, registered: .init(startMs: base, endMs: today), byChannel: true, days: [1, 7, 30], asOfMs: today)
            let count = Retain_V1_CountSegmentRequest(
                filter: .init(channels: ["ads", "social"], stages: [.active, .silent, .churned]), asOfMs: today)
            var check: UInt64 = 0
            let retentionFigures = try await sequential {
                check = try await client.unary(Retain_V1_Profile.getRetention, retention).cohorts.first?.newUsers ?? 0
            }
            let countFigures = try await sequential { check = try await client.unary(Retain_V1_Profile.countSegment, count).count }
            // The first list of a day evaluates every user (one of the warm-up calls); the
            // others read the stages cached since.
            let churn = Retain_V1_ListChurnWarningsRequest(page: .init(pageSize: 100), asOfMs: today)
            var warnings = 0
            let churnFigures = try await sequential {
                warnings = try await client.unary(Retain_V1_Profile.listChurnWarnings, churn).warnings.count
            }
            _ = check
            let total = try await client.unary(Retain_V1_Profile.countSegment, .init(asOfMs: today)).count
            await client.close()
            let label = shardCount == 1 ? "1 instance" : "\(cluster.shards) shards"
            rows.append([
                "GetRetention, \(label)", ms(retentionFigures.p50), ms(retentionFigures.p99), "\(total)",
                String(format: "%.1f", loadSeconds),
            ])
            rows.append(["CountSegment, \(label)", ms(countFigures.p50), ms(countFigures.p99), "\(total)", ""])
            rows.append([
                "ListChurnWarnings (page of \(warnings)), \(label)", ms(churnFigures.p50), ms(churnFigures.p99), "\(total)", "",
            ])
            if growthUsers > 0 {
                let (figures, users, seconds) = try await rank(cluster)
                rows.append(["GetRank, \(label)", ms(figures.p50), ms(figures.p99), "\(users)", String(format: "%.1f", seconds)])
            }
        }
        table(["report", "p50 ms", "p99 ms", "users counted", "load s"], rows)
    }

    /// Registers the users and their activity, each on its owner.
    private func load(_ cluster: Cluster, base: Int64) async throws {
        let ring = HashRing(instanceIDs: cluster.ids)
        let clients = cluster.members.map { RPCClient(host: "127.0.0.1", port: $0.port) }
        defer { Task { for client in clients { await client.close() } } }
        let users = users
        let concurrency = concurrency
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<concurrency {
                group.addTask {
                    var user = worker
                    while user < users {
                        let id = String(format: "bu%07d", user)
                        let registered = base + Int64(user % 60) * Self.day + Int64(user % 86_400) * 1000
                        _ = try await clients[ring.owner(of: id) ?? 0].unary(
                            Retain_V1_Profile.registerUser,
                            .init(
                                userId: id, channel: Self.channels[user % Self.channels.count], registeredAtMs: registered))
                        user += concurrency
                    }
                }
            }
            try await group.waitForAll()
        }
        // Activity: each user active on day 1 and on day 7 or 30 after registering (when past).
        var batches: [Int: [Retain_V1_ActivityEvent]] = [:]
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        for user in 0..<users {
            let id = String(format: "bu%07d", user)
            let registered = base + Int64(user % 60) * Self.day + Int64(user % 86_400) * 1000
            let owner = ring.owner(of: id) ?? 0
            for day in [1, user % 3 == 0 ? 30 : 7] where user % 4 != 0 {
                let at = registered + Int64(day) * Self.day
                if at < now { batches[owner, default: []].append(.init(userId: id, eventId: "d\(day)", kind: "login", occurredAtMs: at)) }
            }
        }
        for (owner, events) in batches {
            for start in stride(from: 0, to: events.count, by: 5000) {
                _ = try await clients[owner].unary(
                    Retain_V1_Profile.recordActivities, .init(events: Array(events[start..<min(start + 5000, events.count)])))
            }
        }
    }

    /// Awards growth to `growthUsers` users (each on its owner; scores 1 to 1000, so ties), then
    /// GetRank through the gateway of users picked across the board: figures, users on the
    /// board, seconds to load.
    private func rank(_ cluster: Cluster) async throws -> (Figures, UInt64, Double) {
        let ring = HashRing(instanceIDs: cluster.growthIDs)
        let clients = cluster.growth.map { RPCClient(host: "127.0.0.1", port: $0.port) }
        defer { Task { for client in clients { await client.close() } } }
        let users = growthUsers
        let concurrency = concurrency
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<concurrency {
                group.addTask {
                    var user = worker
                    while user < users {
                        let id = String(format: "gu%07d", user)
                        _ = try await clients[ring.owner(of: id) ?? 0].unary(
                            Retain_V1_Growth.awardGrowth,
                            .init(
                                userId: id, action: "purchase", idempotencyKey: "b", value: Int64(1 + user * 7919 % 1000) * 100,
                                occurredAtMs: now - Int64(user % 3_600) * 1000))
                        user += concurrency
                    }
                }
            }
            try await group.waitForAll()
        }
        let seconds = Double((ContinuousClock.now - start) / .milliseconds(1)) / 1000
        let client = RPCClient(host: "127.0.0.1", port: cluster.gateway.port)
        defer { Task { await client.close() } }
        var picked = 0
        var total: UInt64 = 0
        let figures = try await sequential {
            picked = (picked + 7_919) % users
            total = try await client.unary(
                Retain_V1_Growth.getRank, .init(userId: String(format: "gu%07d", picked), neighbours: 2)
            ).totalUsers
        }
        return (figures, total, seconds)
    }

    private struct Figures {
        var p50: Double
        var p99: Double
    }

    /// `calls` sequential calls of `body`, after 5 warm-up calls; milliseconds.
    private func sequential(_ body: () async throws -> Void) async throws -> Figures {
        for _ in 0..<5 { try await body() }
        var latencies: [Double] = []
        for _ in 0..<calls {
            let start = ContinuousClock.now
            try await body()
            latencies.append(Double((ContinuousClock.now - start) / .microseconds(1)) / 1000)
        }
        latencies.sort()
        return Figures(p50: latencies[latencies.count / 2], p99: latencies[min(latencies.count - 1, latencies.count * 99 / 100)])
    }

    /// N Profile processes (and N Growth processes when asked) and a gateway whose topology
    /// names them as the shards.
    private struct Cluster {
        let members: [ServerProcess]
        let growth: [ServerProcess]
        let gateway: ServerProcess
        let directory: URL
        var shards: Int { members.count }
        var ids: [String] { members.indices.map { "profile-\($0)" } }
        var growthIDs: [String] { growth.indices.map { "growth-\($0)" } }

        static func start(shards: Int, growth growthShards: Int = 0) async throws -> Cluster {
            let directory = try makeTemporaryDirectory("retain-cluster-bench")
            var members: [ServerProcess] = []
            for index in 0..<shards {
                let data = directory.appendingPathComponent("profile-\(index)")
                try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
                members.append(
                    try ServerProcess(
                        "retain-profile",
                        arguments: [
                            "--data-dir", data.path, "--durability", "interval:20", "--log-level", "warning", "--ops-port=-1",
                        ]))
            }
            var growth: [ServerProcess] = []
            for index in 0..<growthShards {
                let data = directory.appendingPathComponent("growth-\(index)")
                try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
                growth.append(
                    try ServerProcess(
                        "retain-growth",
                        arguments: [
                            "--data-dir", data.path, "--durability", "interval:20", "--log-level", "warning", "--ops-port=-1",
                            "--allow-client-times",
                        ]))
            }
            var services = [
                Topology.Service(
                    name: "retain.v1.Profile",
                    instances: members.enumerated().map {
                        Topology.Instance(id: "profile-\($0.offset)", host: "127.0.0.1", port: $0.element.port)
                    })
            ]
            if !growth.isEmpty {
                services.append(
                    Topology.Service(
                        name: "retain.v1.Growth",
                        instances: growth.enumerated().map {
                            Topology.Instance(id: "growth-\($0.offset)", host: "127.0.0.1", port: $0.element.port)
                        }))
            }
            let topology = Topology(services: services)
            let file = directory.appendingPathComponent("topology.json")
            try topology.encoded().write(to: file)
            let gateway = try ServerProcess(
                "retain-gateway", arguments: ["--topology", file.path, "--log-level", "warning", "--ops-port=-1"])
            return Cluster(members: members, growth: growth, gateway: gateway, directory: directory)
        }

        func stop() {
            _ = gateway.stop()
            for member in members + growth { _ = member.stop() }
            try? FileManager.default.removeItem(at: directory)
        }
    }

    private func ms(_ value: Double) -> String { String(format: "%.2f", value) }

    private func table(_ header: [String], _ rows: [[String]]) {
        let widths = header.indices.map { column in ([header[column]] + rows.map { $0[column] }).map(\.count).max() ?? 0 }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { index, cell in
                let pad = String(repeating: " ", count: widths[index] - cell.count)
                return index == 0 ? cell + pad : pad + cell
            }.joined(separator: "  ")
        }
        print(line(header))
        print(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  "))
        for row in rows { print(line(row)) }
    }
}
