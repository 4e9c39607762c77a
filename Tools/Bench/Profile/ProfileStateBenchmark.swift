package import ArgumentParser
import Foundation
import Logging
import ProfileCore
import RetainProto
import RetainState
import RetainStorage

/// `retain-bench profile-state`: the domain alone, in this process: applies registrations and
/// activity batches straight to a store, then times a snapshot and a recovery. For profiling
/// the state without the network.
package struct ProfileStateBenchmark: AsyncParsableCommand {
    package static let configuration = CommandConfiguration(
        commandName: "profile-state", abstract: "Apply, snapshot and recover the Profile state in-process.", shouldDisplay: false)

    @Option var users = 1_000_000
    @Option(name: .customLong("events-per-user")) var eventsPerUser = 20
    @Option var batch = 10_000
    @Option(name: .customLong("profile-calls")) var profileCalls = 200_000
    @Option(name: .customLong("data-dir"), help: "Keep the data here (default: a temporary directory, removed).")
    var dataDirectory: String?
    @Flag(name: .customLong("recover-only"), help: "Recover the existing --data-dir, snapshot and recover again.")
    var recoverOnly = false
    @Option(name: .customLong("snapshot-workers"), help: "Background threads compressing the snapshot (0: inline).")
    var snapshotWorkers: Int32 = 1

    package init() {}

    package func run() async throws {
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let data = BenchData(users: users, eventsPerUser: eventsPerUser, now: now)
        let directory =
            dataDirectory
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("profile-state-\(UUID().uuidString)").path
        defer { if dataDirectory == nil { try? FileManager.default.removeItem(atPath: directory) } }
        var configuration = StorageConfiguration()
        configuration.durability = .interval(milliseconds: 50)
        configuration.compressionWorkers = snapshotWorkers
        let logger = Logger(label: "state-bench")
        var started = ContinuousClock.now
        let store = try StateStore<ProfileState>(directory: directory, configuration: configuration, logger: logger)
        if recoverOnly {
            say("recovery: \((ContinuousClock.now - started).seconds) s, \(store.read { $0.userCount }) users")
            _ = try store.write { transaction in
                let request = Retain_V1_RegisterUserRequest(userId: "x\(UUID().uuidString.prefix(8))", registeredAtMs: now)
                if case .register(let entry) = try transaction.state.planRegistration(request, now: now, generateID: { "" }) {
                    try transaction.log(entry)
                }
            }
            started = ContinuousClock.now
            _ = try store.snapshot()
            say("snapshot: \((ContinuousClock.now - started).seconds) s")
            store.close()
            return
        }
        started = ContinuousClock.now
        for index in 0..<users {
            let request = data.registration(index)
            _ = try store.write { transaction in
                if case .register(let entry) = try transaction.state.planRegistration(request, now: now, generateID: { "" }) {
                    try transaction.log(entry)
                }
            }
        }
        say("register \(users) in-process: \((ContinuousClock.now - started).seconds) s")
        started = ContinuousClock.now
        let total = users * eventsPerUser
        var first = 0
        while first < total {
            var events: [Retain_V1_ActivityEvent] = []
            events.reserveCapacity(batch)
            for index in first..<min(first + batch, total) { events.append(data.event(user: index % users, round: index / users)) }
            _ = try store.write { transaction in
                if let entry = ProfileState.prepareActivities(events, invalid: [:], now: now).entry { try transaction.log(entry) }
            }
            first += batch
        }
        say("apply \(total) events in-process: \((ContinuousClock.now - started).seconds) s")
        say("rss \(ProcessStatus.memory(pid: getpid()).resident >> 20) MiB")
        let evaluator = LifecycleEvaluator(rules: LifecycleRules())
        started = ContinuousClock.now
        var bytes = 0
        for index in 0..<profileCalls {
            let user = Int32(BenchData.mix(UInt64(index)) % UInt64(users))
            let profile = store.read { $0.profile(user, now: now, evaluator: evaluator) }
            bytes += profile.userId.utf8.count
        }
        say("profile(): \((ContinuousClock.now - started).seconds / Double(profileCalls) * 1e9) ns per call (\(bytes % 2))")
        // Reports counted as events arrive: their cost is the days asked, not the users.
        let range = Retain_V1_TimeRange(startMs: now - 90 * BenchData.day, endMs: now)
        func median(_ body: () throws -> Int) rethrows -> (Double, Int) {
            var times: [Double] = []
            var size = 0
            for _ in 0..<21 {
                let began = ContinuousClock.now
                size = try body()
                times.append((ContinuousClock.now - began).seconds * 1000)
            }
            return (times.sorted()[times.count / 2], size)
        }
        let (active, activeRows) = try median {
            try store.read { try $0.activeUsers(.init(range: range, byChannel: true), asOf: now).days.count }
        }
        say("GetActiveUsers (90 days x all + channels, DAU/WAU/MAU): \(String(format: "%.2f", active)) ms median, \(activeRows) rows")
        let (funnel, funnelRows) = try median {
            try store.read { try $0.funnel(.init(registered: range, byChannel: true), asOf: now).rows.count }
        }
        say("GetFunnel (90 day cohorts x all + channels): \(String(format: "%.2f", funnel)) ms median, \(funnelRows) rows")
        let retentionRequest = Retain_V1_GetRetentionRequest(granularity: .day, registered: range, byChannel: true)
        let (retention, retentionRows) = try median {
            try store.read { try $0.retention(retentionRequest, days: [1, 7, 30], asOf: now).cohorts.count }
        }
        let (scanned, _) = try median {
            try store.read { try $0.retention(retentionRequest, days: [1, 7, 30], asOf: now, byScan: true).cohorts.count }
        }
        say(
            "GetRetention (90 day cohorts x all + channels, days 1/7/30): \(String(format: "%.2f", retention)) ms median from the counters, beside \(String(format: "%.2f", scanned)) ms scanning every user, \(retentionRows) rows"
        )
        // Stages cached between reports: the first report of a day evaluates every user, later
        // ones only the users whose activity changed.
        func warnings(byScan: Bool) throws -> Int {
            try store.read {
                try $0.churnWarnings(
                    channels: [], minimumDrop: 0, pageSize: 100, pageToken: "", asOf: now, now: now, evaluator: evaluator,
                    byScan: byScan
                ).warnings.count
            }
        }
        let coldStarted = ContinuousClock.now
        let atRisk = try store.read {
            try $0.churnWarnings(channels: [], minimumDrop: 0, pageSize: 100, pageToken: "", asOf: now, now: now, evaluator: evaluator)
                .pageInfo?.total ?? 0
        }
        let cold = (ContinuousClock.now - coldStarted).seconds * 1000
        let (warm, _) = try median { try warnings(byScan: false) }
        let (scannedWarnings, _) = try median { try warnings(byScan: true) }
        say(
            "ListChurnWarnings (page of 100 of \(atRisk) at risk): \(String(format: "%.2f", warm)) ms median with cached stages (first of the day \(String(format: "%.2f", cold)) ms), beside \(String(format: "%.2f", scannedWarnings)) ms evaluating every user"
        )
        let stageFilter = Retain_V1_SegmentFilter(channels: ["organic", "ads"], stages: [.active, .churnRisk, .recalled])
        let (counted, members) = try median { Int(store.read { $0.countSegment(stageFilter, asOf: now, evaluator: evaluator) }) }
        let (countedByScan, _) = try median {
            Int(store.read { $0.countSegment(stageFilter, asOf: now, evaluator: evaluator, byScan: true) })
        }
        say(
            "CountSegment (2 channels, 3 stages: \(members) users): \(String(format: "%.2f", counted)) ms median with cached stages, beside \(String(format: "%.2f", countedByScan)) ms evaluating every user"
        )
        // Derived counts are counted again from the users when a snapshot is restored.
        started = ContinuousClock.now
        let rebuilt = store.read { state -> Int in
            var copy = copy state
            copy.rebuildRetentionCounts()
            return copy.retentionCounts.buckets.count
        }
        say(
            "retention counts rebuilt from every user (part of recovery): \(String(format: "%.1f", (ContinuousClock.now - started).seconds * 1000)) ms, \(rebuilt) days"
        )
        started = ContinuousClock.now
        let report = try store.snapshot()
        say("snapshot: \((ContinuousClock.now - started).seconds) s, \(report.map { "\($0.fileBytes >> 20) MiB" } ?? "none")")
        store.close()
        started = ContinuousClock.now
        let reopened = try StateStore<ProfileState>(directory: directory, configuration: configuration, logger: logger)
        say("recovery: \((ContinuousClock.now - started).seconds) s, \(reopened.read { $0.userCount }) users")
        reopened.close()
    }

    private func say(_ line: String) {
        print(line)
        fflush(nil)
    }
}
