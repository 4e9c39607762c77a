package import ArgumentParser
import Foundation
import GrowthCore
import Logging
import RetainProto
import RetainState
import RetainStorage

/// `retain-bench growth-state`: the Growth domain and storage alone, in this process: awards
/// applied straight to a store, then a timed snapshot and a timed recovery. With `--data-dir`
/// and `--recover-only`, a run recovers what an earlier run left, so snapshot and recovery can
/// be timed again and again (and old and new binaries interleaved) without recreating the users.
package struct GrowthStateBenchmark: AsyncParsableCommand {
    package static let configuration = CommandConfiguration(
        commandName: "growth-state", abstract: "Apply awards, snapshot and recover the Growth state in-process.",
        shouldDisplay: false)

    @Option(help: "Users to create, one award each.")
    var users = 1_000_000
    @Option(name: .customLong("data-dir"), help: "Keep the data here (default: a temporary directory, removed).")
    var dataDirectory: String?
    @Flag(name: .customLong("recover-only"), help: "Recover the existing --data-dir, then snapshot it again.")
    var recoverOnly = false
    @Option(
        name: .customLong("snapshot-format"),
        help: "Snapshot format to write: 2 (packed runs, the default) or 1 (a protobuf record per user, as before).")
    var snapshotFormat: UInt32 = GrowthState.snapshotFormat

    package init() {}

    package func run() async throws {
        let directory =
            dataDirectory
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("growth-state-\(UUID().uuidString)").path
        defer { if dataDirectory == nil { try? FileManager.default.removeItem(atPath: directory) } }
        var configuration = StorageConfiguration()
        configuration.durability = .interval(milliseconds: 1_000)
        var logger = Logger(label: "retain.growth.state-bench")
        logger.logLevel = .warning
        let rules = GrowthRules.standard
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        var started = ContinuousClock.now
        var cpu = Self.cpuSeconds()
        let store = try StateStore<GrowthState>(directory: directory, configuration: configuration, logger: logger)
        let recovery = ContinuousClock.now - started
        let recoveryCPU = Self.cpuSeconds() - cpu
        let recovered = store.read { $0.userCount }
        if recoverOnly {
            say(
                "recovery: \(format(recovery)) s, cpu \(format(recoveryCPU, 3)) s (\(recovered) users), "
                    + "rss \(format(GrowthBenchmark.residentMegabytes(getpid()), 0)) MB")
        }
        let first = recoverOnly ? 0 : recovered
        let count = recoverOnly ? 1 : users - recovered
        started = ContinuousClock.now
        for index in first..<(first + count) {
            // A re-run awards one more (new idempotency key), so a snapshot covers something new.
            let key = recoverOnly ? "rerun-\(UUID().uuidString)" : "seed-\(index)"
            let request = Retain_V1_AwardGrowthRequest(
                userId: "user-\(index)", action: "purchase", idempotencyKey: key,
                value: Int64(GrowthBenchmark.random(UInt64(index)) % 100_001))
            _ = try store.write { transaction in
                if case .changed(let entry, _) = try transaction.state.planAward(request, at: now, now: now, rules: rules) {
                    try transaction.log(entry)
                }
            }
        }
        if !recoverOnly {
            say("\(count) awards applied in process: \(format(ContinuousClock.now - started)) s")
            say("rss \(format(GrowthBenchmark.residentMegabytes(getpid()), 0)) MB")
        }
        started = ContinuousClock.now
        cpu = Self.cpuSeconds()
        let report = try GrowthState.$writtenSnapshotFormat.withValue(snapshotFormat) { try store.snapshot() }
        say(
            "snapshot (format \(snapshotFormat)): \(format(ContinuousClock.now - started)) s, cpu \(format(Self.cpuSeconds() - cpu, 3)) s, "
                + "\(format(Double(report?.fileBytes ?? 0) / 1_048_576, 1)) MB compressed, "
                + "\(format(Double(report?.uncompressedBytes ?? 0) / 1_048_576, 1)) MB of records")
        store.close()
        if !recoverOnly {
            started = ContinuousClock.now
            cpu = Self.cpuSeconds()
            let reopened = try StateStore<GrowthState>(directory: directory, configuration: configuration, logger: logger)
            say(
                "recovery: \(format(ContinuousClock.now - started)) s, cpu \(format(Self.cpuSeconds() - cpu, 3)) s "
                    + "(\(reopened.read { $0.userCount }) users)")
            reopened.close()
        }
    }

    /// User and system CPU time of the whole process (every thread), in seconds.
    static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
            + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }

    private func format(_ duration: Duration) -> String {
        format(GrowthBenchmark.seconds(duration), 3)
    }

    private func format(_ value: Double, _ digits: Int) -> String {
        String(format: "%.\(digits)f", value)
    }

    private func say(_ line: String) {
        print(line)
        fflush(nil)
    }
}
