import Foundation
import GrowthCore
import Logging
import NIOCore
import RetainProcess
import RetainProto
import RetainRPC
import RetainState
import RetainStorage

/// The Growth benchmark: creates `users` users through AwardGrowth over the wire (each with a
/// purchase worth 0 to 1000 growth, so scores tie by the thousand), awards more to existing
/// users, times leaderboard queries one at a time and a restart holding all the users; then,
/// with the server gone, the same awards in process through a store, a snapshot of all the
/// users and a recovery from it.
struct GrowthBenchmark {
    let users: Int
    let connections: Int
    let concurrency: Int
    let existingAwards: Int
    let queries: Int
    let durability: String
    let measureRestart: Bool
    let serverSnapshots: Bool

    func run() async throws {
        let directory = try makeTemporaryDirectory("retain-growth-bench")
        defer { try? FileManager.default.removeItem(at: directory) }
        var arguments = ["serve", "--data-dir", directory.path, "--durability", durability, "--log-level", "warning"]
        if !serverSnapshots {
            // Snapshots compete for the CPU; without them the phases measure the steady state
            // and the restart replays the whole log.
            arguments += ["--snapshot-every-records", "1000000000", "--snapshot-every-seconds", "1000000"]
        }
        var server = try ServerProcess("retain-growth", arguments: arguments)
        print(
            "retain-bench growth: \(users) users, \(connections) connections, concurrency \(concurrency), "
                + "durability \(durability), server snapshots \(serverSnapshots ? "on" : "off")")
        var configuration = RPCClient.Configuration()
        configuration.connectionsPerAddress = connections
        var client = RPCClient(host: "127.0.0.1", port: server.port, configuration: configuration)
        var rows: [[String]] = []

        let users = users
        let created = try await awards(server.port, count: users) { index in
            Retain_V1_AwardGrowthRequest(
                userId: "user-\(index)", action: "purchase", idempotencyKey: "seed-\(index)",
                value: Int64(Self.random(UInt64(index)) % 100_001))
        }
        rows.append(row("AwardGrowth, new users", created.recorder, seconds: created.seconds))

        let actions = ["login", "post", "share", "purchase", "review"]
        let more = try await awards(server.port, count: existingAwards) { index in
            let random = Self.random(UInt64(index) &+ 0x5EED)
            return Retain_V1_AwardGrowthRequest(
                userId: "user-\(Int(random % UInt64(users)))", action: actions[Int((random >> 32) % UInt64(actions.count))],
                idempotencyKey: "more-\(index)", value: Int64((random >> 40) % 20_000))
        }
        rows.append(row("AwardGrowth, existing users", more.recorder, seconds: more.seconds))

        let top = try await sequential(server.port, queries) { _ in
            PipelinedClient.requestFrame(Retain_V1_Growth.getLeaderboard, .init(board: .overall, limit: 100))
        }
        rows.append(row("GetLeaderboard overall, top 100", top.recorder, seconds: top.seconds))
        let weekly = try await sequential(server.port, queries) { _ in
            PipelinedClient.requestFrame(Retain_V1_Growth.getLeaderboard, .init(board: .weekly, limit: 100))
        }
        rows.append(row("GetLeaderboard weekly, top 100", weekly.recorder, seconds: weekly.seconds))
        let rank = try await sequential(server.port, queries) { index in
            let user = "user-\(Int(Self.random(UInt64(index) &+ 0xABCD) % UInt64(users)))"
            return PipelinedClient.requestFrame(Retain_V1_Growth.getRank, .init(userId: user, board: .overall, neighbours: 5))
        }
        rows.append(row("GetRank overall, ±5 neighbours", rank.recorder, seconds: rank.seconds))
        let weeklyRank = try await sequential(server.port, queries) { index in
            let user = "user-\(Int(Self.random(UInt64(index) &+ 0xDCBA) % UInt64(users)))"
            return PipelinedClient.requestFrame(Retain_V1_Growth.getRank, .init(userId: user, board: .weekly, neighbours: 5))
        }
        rows.append(row("GetRank weekly, ±5 neighbours", weeklyRank.recorder, seconds: weeklyRank.seconds))

        let board = try await client.unary(Retain_V1_Growth.getLeaderboard, .init(board: .overall, limit: 100))
        let memory = Self.residentMegabytes(server.process.processIdentifier)
        print("")
        printTable(["phase (over the wire)", "calls", "seconds", "calls/s", "p50 µs", "p99 µs", "p99.9 µs", "mean µs"], rows)
        print("")
        print("users on the overall board: \(board.totalUsers); top score \(board.entries.first?.score ?? 0)")
        print("server resident memory: \(format(memory)) MB")

        if measureRestart {
            await client.close()
            var clock = ContinuousClock.now
            server.stop()
            let stopped = ContinuousClock.now - clock
            clock = ContinuousClock.now
            server = try ServerProcess("retain-growth", arguments: arguments, timeout: .seconds(600))
            let restarted = ContinuousClock.now - clock
            client = RPCClient(host: "127.0.0.1", port: server.port, configuration: configuration)
            let after = try await client.unary(Retain_V1_Growth.getLeaderboard, .init(board: .overall, limit: 100))
            print(
                "graceful stop: \(format(Self.seconds(stopped), 2)) s; restart until listening: \(format(Self.seconds(restarted), 2)) s "
                    + "(\(serverSnapshots ? "snapshot and log" : "whole log replayed")); "
                    + "top 100 after restart \(after.entries == board.entries ? "identical" : "DIFFERENT"), \(after.totalUsers) users")
        }
        await client.close()
        server.stop()
        try inProcess()
    }

    /// The domain and the storage without the wire: awards decided, applied and appended to
    /// the log in this process, a snapshot of every user, and a recovery from it.
    private func inProcess() throws {
        let directory = try makeTemporaryDirectory("retain-growth-bench-store")
        defer { try? FileManager.default.removeItem(at: directory) }
        var configuration = StorageConfiguration()
        configuration.durability = .interval(milliseconds: 1_000)
        var logger = Logger(label: "retain.growth.bench")
        logger.logLevel = .warning
        let rules = GrowthRules.standard
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        var recorder = LatencyRecorder()
        recorder.nanoseconds.reserveCapacity(users)
        var started = ContinuousClock.now
        var snapshot: SnapshotReport?
        do {
            let store = try StateStore<GrowthState>(directory: directory.path, configuration: configuration, logger: logger)
            for index in 0..<users {
                let start = ContinuousClock.now
                let request = Retain_V1_AwardGrowthRequest(
                    userId: "user-\(index)", action: "purchase", idempotencyKey: "seed-\(index)",
                    value: Int64(Self.random(UInt64(index)) % 100_001))
                _ = try store.write { transaction in
                    if case .changed(let entry, _) = try transaction.state.planAward(request, at: now, now: now, rules: rules) {
                        try transaction.log(entry)
                    }
                }
                recorder.record(ContinuousClock.now - start)
            }
            let awarded = Self.seconds(ContinuousClock.now - started)
            print("")
            printTable(
                ["phase (in process)", "calls", "seconds", "calls/s", "p50 µs", "p99 µs", "p99.9 µs", "mean µs"],
                [row("AwardGrowth decided, applied, logged", recorder, seconds: awarded)])
            started = ContinuousClock.now
            snapshot = try store.snapshot()
            print(
                "snapshot of \(users) users: \(format(Self.seconds(ContinuousClock.now - started), 2)) s, "
                    + "\(format(Double(snapshot?.fileBytes ?? 0) / 1_048_576)) MB compressed")
            store.close()
        }
        started = ContinuousClock.now
        let recovered = try StateStore<GrowthState>(directory: directory.path, configuration: configuration, logger: logger)
        let seconds = Self.seconds(ContinuousClock.now - started)
        let count = recovered.read { $0.userCount }
        print("recovery from that snapshot: \(format(seconds, 2)) s (\(count) users, leaderboards rebuilt)")
        recovered.close()
    }

    // MARK: Phases

    /// Sends `count` awards with `concurrency` calls in flight, spread over the connections.
    private func awards(
        _ port: Int, count: Int, _ request: @escaping @Sendable (Int) -> Retain_V1_AwardGrowthRequest
    ) async throws -> (recorder: LatencyRecorder, seconds: Double) {
        var configuration = PipelinedClient.Configuration(port: port)
        configuration.connections = connections
        configuration.callsInFlight = max(1, concurrency / connections)
        configuration.recordLatencies = true
        let spread = connections
        let report = try await PipelinedClient.run(configuration) { connection in
            NumberedCalls(connection: connection, connections: spread, total: count) { index in
                PipelinedClient.requestFrame(Retain_V1_Growth.awardGrowth, request(index))
            }
        }
        return (LatencyRecorder(nanoseconds: report.latencies), report.seconds)
    }

    /// Makes `count` calls one after the other on one connection, call `index` sending
    /// `request(index)`.
    private func sequential(
        _ port: Int, _ count: Int, _ request: @escaping @Sendable (Int) -> ByteBuffer
    ) async throws -> (recorder: LatencyRecorder, seconds: Double) {
        var configuration = PipelinedClient.Configuration(port: port)
        configuration.recordLatencies = true
        let report = try await PipelinedClient.run(configuration) { _ in
            NumberedCalls(connection: 0, connections: 1, total: count, makeRequest: request)
        }
        return (LatencyRecorder(nanoseconds: report.latencies), report.seconds)
    }

    private func row(_ name: String, _ recorder: LatencyRecorder, seconds: Double) -> [String] {
        let points = recorder.percentiles([0.5, 0.99, 0.999])
        return [
            name, String(recorder.nanoseconds.count), format(seconds, 2),
            format(Double(recorder.nanoseconds.count) / seconds), format(points[0]), format(points[1]),
            format(points[2]), format(recorder.mean),
        ]
    }

    // MARK: Helpers

    /// SplitMix64: a fixed pseudo-random value per index, so runs are comparable.
    static func random(_ seed: UInt64) -> UInt64 {
        var z = seed &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    static func seconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }

    /// VmRSS of a process, from /proc.
    static func residentMegabytes(_ pid: Int32) -> Double {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
            let kilobytes = Double(line.split(separator: " ").dropFirst().first ?? "")
        else { return 0 }
        return kilobytes / 1024
    }
}
