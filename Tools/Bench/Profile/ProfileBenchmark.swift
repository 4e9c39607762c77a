package import ArgumentParser
import Foundation
import NIOCore
import RetainProcess
import RetainProto
import RetainRPC

/// `retain-bench profile`: loads a `retain-profile` server process with 1 million users and 20
/// million activity events over the wire and prints what the issue asks for: throughput of
/// registrations and activity, resident memory, profile reads beside Redis GET at the same
/// concurrency, segment and retention latency, snapshot and recovery times.
package struct ProfileBenchmark: AsyncParsableCommand {
    package static let configuration = CommandConfiguration(
        commandName: "profile", abstract: "Load 1M users and 20M events over the wire and print throughput, memory and latency.")

    @Option(help: "Users to register.") var users = 1_000_000
    @Option(name: .customLong("events-per-user"), help: "Activity events per user.") var eventsPerUser = 20
    @Option(help: "Events per RecordActivities call.") var batch = 10_000
    @Option(name: .customLong("single-events"), help: "Events sent one per RecordActivity call (part of the total).")
    var singleEvents = 200_000
    @Option(name: .customLong("read-requests"), help: "GetProfile calls in the read benchmark (and GETs for Redis).")
    var readRequests = 500_000
    @Option(name: .customLong("read-connections"), help: "Connections of the read benchmark (and redis-benchmark -c).")
    var readConnections = 50
    @Option(name: .customLong("data-dir"), help: "Data directory (default: a fresh temporary one, removed afterwards).")
    var dataDirectory: String?
    @Option(name: .customLong("server-event-loops"), help: "The server's event loop threads (default: one per core).")
    var serverEventLoops: Int?

    package init() {}

    package func run() async throws {
        let benchStarted = ContinuousClock.now
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let data = BenchData(users: users, eventsPerUser: eventsPerUser, now: now)
        let temporary = dataDirectory == nil
        let directory =
            dataDirectory
            ?? FileManager.default.temporaryDirectory
            .appendingPathComponent("retain-profile-bench-\(UUID().uuidString)").path
        defer { if temporary { try? FileManager.default.removeItem(atPath: directory) } }
        let baseArguments = [
            "serve", "--data-dir", directory, "--log-level", "notice", "--ops-port=-1",
            "--snapshot-every-records", "1000000000", "--snapshot-every-seconds", "1000000000",
        ]
        let serverArguments = baseArguments + (serverEventLoops.map { ["--event-loops", "\($0)"] } ?? [])
        var server = try ServerProcess("retain-profile", arguments: serverArguments)
        let totalEvents = users * eventsPerUser
        say(
            "retain-bench profile: \(users.grouped) users, \(totalEvents.grouped) activity events; server process "
                + "on 127.0.0.1:\(server.port), durability always (fsync before every answer), \(ProcessInfo.processInfo.activeProcessorCount) cores"
        )

        // Registrations, one call each.
        say("load over the wire")
        let registered = try await LoadRun.run(port: server.port, connections: 4, inFlight: 32, total: users) { index in
            PipelinedClient.requestFrame(Retain_V1_Profile.registerUser, data.registration(index))
        }
        try check(registered, "RegisterUser")
        row(
            "register", "\(users.grouped) calls in \(registered.seconds.fixed(1)) s",
            "\(rate(users, registered.seconds)) calls/s", "4 connections x 32 in flight")

        // Single events, then the rest in batches.
        let singles = min(singleEvents, totalEvents)
        let single = try await LoadRun.run(port: server.port, connections: 4, inFlight: 32, total: singles) { index in
            let event = data.event(user: index % users, round: index / users)
            return PipelinedClient.requestFrame(
                Retain_V1_Profile.recordActivity,
                Retain_V1_RecordActivityRequest(
                    userId: event.userId, eventId: event.eventId, kind: event.kind, occurredAtMs: event.occurredAtMs, value: event.value))
        }
        try check(single, "RecordActivity")
        row(
            "record activity", "\(singles.grouped) calls in \(single.seconds.fixed(1)) s",
            "\(rate(singles, single.seconds)) calls/s", "one event per call")
        let remaining = totalEvents - singles
        let calls = (remaining + batch - 1) / batch
        let batched = try await LoadRun.run(
            port: server.port, connections: 2, inFlight: 2, total: calls,
            inspect: { payload in
                (try? payload.decodeProtoMessage(Retain_V1_RecordActivitiesResponse.self)).map { Int($0.acceptedCount) } ?? 0
            }
        ) { call in
            let first = singles + call * batch
            var events: [Retain_V1_ActivityEvent] = []
            events.reserveCapacity(batch)
            for index in first..<min(first + batch, totalEvents) {
                events.append(data.event(user: index % users, round: index / users))
            }
            return PipelinedClient.requestFrame(Retain_V1_Profile.recordActivities, Retain_V1_RecordActivitiesRequest(events: events))
        }
        try check(batched, "RecordActivities")
        let accepted = batched.counted
        guard accepted == remaining else { throw BenchError("the server accepted \(accepted) of \(remaining) batched events") }
        row(
            "record activities", "\(calls.grouped) calls x \(batch.grouped) events in \(batched.seconds.fixed(1)) s",
            "\(rate(remaining, batched.seconds)) events/s", "\(rate(calls, batched.seconds)) calls/s")
        let memory = ProcessStatus.memory(pid: server.process.processIdentifier)
        row(
            "server memory", "VmRSS \(memory.resident.mebibytes) MiB", "peak VmHWM \(memory.peak.mebibytes) MiB",
            "after \(users.grouped) users + \(totalEvents.grouped) events")

        // Reads beside Redis.
        say("profile reads: GetProfile over \(readConnections) connections, one call in flight each")
        var frames: [ByteBuffer] = []
        frames.reserveCapacity(4096)
        for index in 0..<4096 {
            frames.append(
                PipelinedClient.requestFrame(
                    Retain_V1_Profile.getProfile,
                    Retain_V1_GetProfileRequest(
                        userId: data.userID(Int(BenchData.mix(UInt64(index) &+ 5) % UInt64(users))))))
        }
        let prepared = frames
        try await compareReads(port: server.port, frames: prepared, label: "retain-profile")

        // Queries.
        say("queries over the wire (median of 5 runs)")
        let client = RPCClient(host: "127.0.0.1", port: server.port)
        let segment = Retain_V1_CountSegmentRequest(
            filter: Retain_V1_SegmentFilter(
                channels: ["ads.google", "ads.meta", "referral"], stages: [.active, .churnRisk], minAge: 25))
        let (segmentLatency, segmentAnswer) = try await median(server.port, Retain_V1_Profile.countSegment, segment)
        row(
            "CountSegment", "\(segmentLatency.fixed(1)) ms", "\(segmentAnswer.count.grouped) users",
            "3 channels, stage active or churn risk, age >= 25")
        let simple = Retain_V1_CountSegmentRequest(filter: Retain_V1_SegmentFilter(tagsAll: ["vip"], regions: ["cn-sh"]))
        let (simpleLatency, simpleAnswer) = try await median(server.port, Retain_V1_Profile.countSegment, simple)
        row("CountSegment", "\(simpleLatency.fixed(1)) ms", "\(simpleAnswer.count.grouped) users", "tag vip, region cn-sh")
        let retention = Retain_V1_GetRetentionRequest(
            granularity: .day, registered: Retain_V1_TimeRange(startMs: now - 90 * BenchData.day, endMs: now), byChannel: true)
        let (retentionLatency, retentionAnswer) = try await median(server.port, Retain_V1_Profile.getRetention, retention)
        row(
            "GetRetention", "\(retentionLatency.fixed(1)) ms", "\(retentionAnswer.cohorts.count) rows",
            "90 day cohorts x (all + 8 channels), days 1/7/30")
        let weekly = Retain_V1_GetRetentionRequest(
            granularity: .week, registered: Retain_V1_TimeRange(startMs: now - 119 * BenchData.day, endMs: now))
        let (weeklyLatency, weeklyAnswer) = try await median(server.port, Retain_V1_Profile.getRetention, weekly)
        row("GetRetention", "\(weeklyLatency.fixed(1)) ms", "\(weeklyAnswer.cohorts.count) rows", "week cohorts, all channels")
        let active = Retain_V1_GetActiveUsersRequest(
            range: Retain_V1_TimeRange(startMs: now - 90 * BenchData.day, endMs: now), byChannel: true)
        let (activeLatency, activeAnswer) = try await median(server.port, Retain_V1_Profile.getActiveUsers, active)
        row(
            "GetActiveUsers", "\(activeLatency.fixed(1)) ms", "\(activeAnswer.days.count) rows",
            "DAU/WAU/MAU, 90 days x (all + channels)")
        let funnel = Retain_V1_GetFunnelRequest(
            granularity: .day, registered: Retain_V1_TimeRange(startMs: now - 90 * BenchData.day, endMs: now), byChannel: true)
        let (funnelLatency, funnelAnswer) = try await median(server.port, Retain_V1_Profile.getFunnel, funnel)
        row(
            "GetFunnel", "\(funnelLatency.fixed(1)) ms", "\(funnelAnswer.rows.count) rows",
            "90 day cohorts x (all + channels)")
        let (listLatency, listAnswer) = try await median(
            server.port, Retain_V1_Profile.listSegment,
            Retain_V1_ListSegmentRequest(
                filter: Retain_V1_SegmentFilter(channels: ["referral"]), page: Retain_V1_PageRequest(pageSize: 100)))
        row(
            "ListSegment", "\(listLatency.fixed(1)) ms", "100 of \((listAnswer.pageInfo?.total ?? 0).grouped) users",
            "channel referral, first page by user id")
        let (warningLatency, warningAnswer) = try await median(
            server.port, Retain_V1_Profile.listChurnWarnings, Retain_V1_ListChurnWarningsRequest(page: Retain_V1_PageRequest(pageSize: 50)))
        row(
            "ListChurnWarnings", "\(warningLatency.fixed(1)) ms", "50 of \((warningAnswer.pageInfo?.total ?? 0).grouped) users",
            "largest drop first")
        let probe = data.userID(users / 2)
        let before = try await client.unary(Retain_V1_Profile.getProfile, Retain_V1_GetProfileRequest(userId: probe))
        await client.close()

        // Snapshot on graceful shutdown, then a restart that restores it.
        say("snapshot and recovery")
        let stopStarted = ContinuousClock.now
        server.stop()
        let stopSeconds = (ContinuousClock.now - stopStarted).seconds
        let written = server.log.split(separator: "\n").last { $0.contains("snapshot on shutdown written in") }
            .flatMap { $0.components(separatedBy: "written in ").last?.split(separator: " ").first }
            .flatMap { Double($0) }
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        let snapshotBytes =
            files.filter { $0.hasSuffix(".snap") }.map { directory + "/" + $0 }
            .compactMap { try? FileManager.default.attributesOfItem(atPath: $0)[.size] as? Int }.max() ?? 0
        row(
            "snapshot write", written.map { "\($0.fixed(2)) s" } ?? "n/a", "\(snapshotBytes.mebibytes) MiB file (zstd)",
            "on graceful shutdown; SIGTERM to exit \(stopSeconds.fixed(2)) s")
        let restartStarted = ContinuousClock.now
        // The restart serves on one event loop thread, as redis-server does, for a second read
        // comparison in Redis's own shape (on 2 cores the load generator has the other one).
        let restartArguments =
            baseArguments.map { $0 == "notice" ? "info" : $0 } + ["--no-snapshot-on-exit", "--event-loops", "1"]
        server = try ServerProcess("retain-profile", arguments: restartArguments, timeout: .seconds(120))
        let restartSeconds = (ContinuousClock.now - restartStarted).seconds
        let recovered = server.log.split(separator: "\n").last { $0.contains("recovered through sequence") }
            .flatMap { $0.components(separatedBy: " in ").last?.split(separator: " ").first }.flatMap { Double($0) }
        let restored = ProcessStatus.memory(pid: server.process.processIdentifier)
        row(
            "recovery", recovered.map { "\($0.fixed(2)) s" } ?? "n/a", "restart to listening \(restartSeconds.fixed(2)) s",
            "VmRSS after recovery \(restored.resident.mebibytes) MiB")
        let check = RPCClient(host: "127.0.0.1", port: server.port)
        let after = try await check.unary(Retain_V1_Profile.getProfile, Retain_V1_GetProfileRequest(userId: probe))
        await check.close()
        guard after.profile?.activityCount == before.profile?.activityCount, after.profile?.lastActiveMs == before.profile?.lastActiveMs
        else { throw BenchError("user \(probe) differs after the restart") }
        say("profile reads after the restart: the server on one event loop thread, as redis-server")
        try await compareReads(port: server.port, frames: prepared, label: "1-loop server")
        server.stop()
        say("total bench time \((ContinuousClock.now - benchStarted).seconds.fixed(0)) s")
    }

    /// GetProfile calls over `readConnections` connections (one call in flight each) beside
    /// `redis-benchmark -t get` at the same concurrency, alternating two rounds so that both see
    /// the same background load; prints each round and the ratio of the better rounds.
    private func compareReads(port: Int, frames: [ByteBuffer], label: String) async throws {
        let connections = readConnections
        let requests = readRequests
        var best: (rate: Double, p50: String, p99: String)?
        var bestRedis: (rate: Double, line: String)?
        var redisMissing = false
        for round in 1...2 {
            // One call in flight per connection on one event loop thread, the way redis-benchmark
            // drives Redis, so that the client costs about what redis-benchmark costs.
            let reads = try await LoadRun.run(
                port: port, connections: connections, inFlight: 1, total: requests,
                recordLatency: true
            ) { index in frames[index % frames.count] }
            guard reads.failed == 0 else { throw BenchError("\(reads.failed) GetProfile calls failed") }
            let readRate = Double(requests) / reads.seconds
            let sorted = reads.latencies.sorted()
            func percentile(_ p: Double) -> String {
                (Double(sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]) / 1e6).fixed(3)
            }
            row(
                label, "\(readRate.grouped) calls/s", "p50=\(percentile(0.5)) ms p99=\(percentile(0.99)) ms",
                "round \(round), \(requests.grouped) calls")
            if best == nil || readRate > best!.rate { best = (readRate, percentile(0.5), percentile(0.99)) }
            guard !redisMissing else { continue }
            if let redis = try await RedisAnchor.measure(clients: connections, requests: requests) {
                row("redis GET (anchor)", "\(redis.rate.grouped) requests/s", "round \(round)", redis.line)
                if bestRedis == nil || redis.rate > bestRedis!.rate { bestRedis = redis }
            } else {
                say("  redis-server or redis-benchmark is not installed: anchor skipped")
                redisMissing = true
            }
        }
        if let best, let bestRedis {
            row(
                "ratio (best rounds)", "\((best.rate / bestRedis.rate).fixed(2))x redis GET",
                "\(best.rate.grouped) vs \(bestRedis.rate.grouped) per second",
                "redis-benchmark -t get -c \(readConnections) -n \(readRequests) -q")
        }
    }

    /// Prints a line at once (standard output is a pipe when the bench runs under a tool).
    private func say(_ line: String) {
        print(line)
        fflush(nil)
    }

    private func check(_ run: LoadRun, _ method: String) throws {
        guard run.failed == 0 else {
            throw BenchError("\(run.failed) \(method) calls failed; first: \(run.firstFailure ?? "?")")
        }
    }

    private func rate(_ count: Int, _ seconds: Double) -> String { (Double(count) / seconds).grouped }

    private func row(_ name: String, _ a: String, _ b: String, _ c: String) {
        func pad(_ text: String, _ width: Int) -> String { text + String(repeating: " ", count: max(1, width - text.count)) }
        say("  " + pad(name, 20) + pad(a, 36) + pad(b, 40) + c)
    }

    /// The median latency in ms of 5 calls of `method` with `request`, one after the other on one
    /// connection, and the last answer.
    private func median<Input, Output>(
        _ port: Int, _ method: RPCMethod<Input, Output>, _ request: Input
    ) async throws -> (Double, Output) {
        var configuration = PipelinedClient.Configuration(port: port)
        configuration.recordLatencies = true
        let frame = PipelinedClient.requestFrame(method, request)
        let report = try await PipelinedClient.run(configuration) { _ in
            NumberedCalls(connection: 0, connections: 1, total: 5, state: Output?.none, makeRequest: { _ in frame }) { _, frame, last in
                try frame.requireOK()
                last = try frame.payload.decodeProtoMessage(Output.self)
            }
        }
        guard let last = report.connections.first?.state else { throw BenchError("\(method.path) gave no answer") }
        return (Double(report.latencies.sorted()[2]) / 1e6, last)
    }
}

extension BinaryInteger {
    /// The number with thousands separators.
    var grouped: String {
        var digits = Array(String(self))
        var index = digits.count - 3
        while index > 0 {
            digits.insert(",", at: index)
            index -= 3
        }
        return String(digits)
    }

    /// Bytes in MiB.
    var mebibytes: Int { Int(self) >> 20 }
}

extension Double {
    /// The number rounded to an integer, with thousands separators.
    var grouped: String { Int(rounded()).grouped }

    /// The number with `digits` decimals.
    func fixed(_ digits: Int) -> String {
        String(format: "%.\(digits)f", self)
    }
}
