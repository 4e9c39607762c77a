import Foundation
import Glibc
import RetainProcess
import RetainStorage
import Testing

@Suite("Crash test")
struct CrashTests {
    /// The `retain-storage` executable: `$RETAIN_STORAGE_TOOL`, or next to the test bundle.
    static func toolPath() -> String? {
        if let path = ProcessInfo.processInfo.environment["RETAIN_STORAGE_TOOL"] { return path }
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("retain-storage").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        return nil
    }

    /// Complete lines of a file that a killed process was writing (a partial last line is dropped).
    private func acknowledgedSequences(_ path: String) throws -> [UInt64] {
        let text = String(decoding: try readFile(path), as: UTF8.self)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        lines.removeLast()
        return try lines.map { line in try #require(UInt64(line), "bad line \(line)") }
    }

    @Test(
        "every acknowledged record survives SIGKILL at random moments: present, in order, exactly once",
        .timeLimit(.minutes(2)))
    func killAtRandomMoments() async throws {
        let tool = try #require(Self.toolPath(), "build the retain-storage executable first (swift build)")
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        var acknowledgedTotal = 0
        var tornTails = 0
        var snapshotsSeen = 0
        let rounds = 20
        let started = ContinuousClock.now

        for round in 0..<rounds {
            let output = scratch.path + "/round-\(round).out"
            let errors = scratch.path + "/round-\(round).err"
            try writeFile(output, [])
            try writeFile(errors, [])
            let process = Process()
            process.executableURL = URL(fileURLWithPath: tool)
            process.arguments = [
                "torture", "--dir", scratch.data, "--durability", "always", "--writers", "8",
                "--snapshot-every", "3000", "--segment-bytes", "65536", "--seconds", "30",
            ]
            let outputHandle = try #require(FileHandle(forWritingAtPath: output))
            let errorHandle = try #require(FileHandle(forWritingAtPath: errors))
            defer {
                try? outputHandle.close()
                try? errorHandle.close()
            }
            process.standardOutput = outputHandle
            process.standardError = errorHandle
            try process.run()

            if round % 2 == 0 {
                // Kill at any moment, startup and recovery included.
                try await Task.sleep(for: .milliseconds(Int.random(in: 5...400)))
            } else {
                // Wait until it acknowledges, prove it holds the lock, then kill under load.
                let deadline = ContinuousClock.now + .seconds(10)
                while fileSize(output) == 0, process.isRunning, ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(5))
                }
                #expect(throws: StorageError.locked(directory: scratch.data, holderPID: process.processIdentifier)) {
                    _ = try DurableStore(directory: scratch.data, configuration: StorageConfiguration(), logger: testLogger())
                }
                try await Task.sleep(for: .milliseconds(Int.random(in: 0...300)))
            }
            let stillRunning = process.isRunning
            kill(process.processIdentifier, SIGKILL)
            process.waitForExit()
            let stderr = String(decoding: try readFile(errors), as: UTF8.self)
            #expect(stillRunning, "torture exited on its own in round \(round): \(stderr)")
            #expect(process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGKILL)

            let acknowledged = try acknowledgedSequences(output)
            acknowledgedTotal += acknowledged.count
            #expect(Set(acknowledged).count == acknowledged.count, "a sequence was acknowledged twice")

            let (store, recovered) = try openAndRecover(scratch.data)
            store.close()
            let covered = recovered.report.snapshotSequence
            let last = recovered.report.lastSequence
            if recovered.report.truncatedTail != nil { tornTails += 1 }
            if recovered.report.snapshotFile != nil { snapshotsSeen += 1 }
            #expect(recovered.snapshot.count == Int(covered), "round \(round)")
            for (index, record) in recovered.snapshot.enumerated() where !TortureRecord.matches(record, sequence: UInt64(index + 1)) {
                Issue.record("round \(round): snapshot record \(index + 1) is wrong")
                break
            }
            let expectedLog: [UInt64] = covered < last ? Array((covered + 1)...last) : []
            #expect(recovered.logSequences == expectedLog, "round \(round): log is not exactly \(covered + 1)...\(last)")
            for entry in recovered.log where !TortureRecord.matches(entry.payload, sequence: entry.sequence) {
                Issue.record("round \(round): log record \(entry.sequence) is wrong")
                break
            }
            if let highest = acknowledged.max() {
                #expect(highest <= last, "round \(round): sequence \(highest) was acknowledged but recovery ends at \(last)")
            }
        }
        let elapsed = ContinuousClock.now - started
        print(
            "crash test: \(rounds) rounds, \(acknowledgedTotal) acknowledged records, \(tornTails) torn tails cut, snapshots in \(snapshotsSeen) recoveries, \(elapsed)"
        )
        #expect(acknowledgedTotal > 0)
    }
}
