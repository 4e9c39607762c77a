import ArgumentParser
import Glibc
import Logging
import RetainStorage
import Synchronization

/// `retain-storage bench`: durable append throughput and snapshot speed, on this machine's disk.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure durable appends/s (durability always) and snapshot write/load of small records.",
        discussion: "Build with -c release for meaningful figures. Uses a scratch directory it removes afterwards.")

    @Option(help: "Scratch directory (default: a new directory under /tmp).")
    var dir: String?

    @Option(parsing: .upToNextOption, help: "Concurrent writer counts to measure.")
    var writers: [Int] = [1, 16, 64]

    @Option(help: "Seconds to run each writer count.")
    var seconds: Double = 3

    @Option(help: "Payload bytes per appended record.")
    var payloadBytes: Int = 100

    @Option(help: "Records in the snapshot benchmark.")
    var records: Int = 1_000_000

    @Flag(help: "Keep the scratch directory.")
    var keep = false

    func run() async throws {
        RetainStorageTool.bootstrapLogging(level: .warning)
        let base = try dir ?? makeScratchDirectory()
        print("retain-storage bench in \(base)")
        try probeSyncLatency(directory: base)
        for count in writers {
            try await benchAppends(directory: base + "/appends-\(count)", writers: count)
        }
        if let largest = writers.max() {
            try benchReplay(directory: base + "/appends-\(largest)")
        }
        try benchSnapshot(directory: base + "/snapshot")
        if !keep { removeTree(base) }
    }

    /// The disk's raw `write` + `fdatasync` latency, which bounds durable appends per writer.
    private func probeSyncLatency(directory: String) throws {
        let path = directory + "/sync-probe"
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw ValidationError("cannot create \(path)") }
        defer {
            close(fd)
            unlink(path)
        }
        let bytes = [UInt8](repeating: 0x5A, count: payloadBytes)
        var samples: [Duration] = []
        for _ in 0..<200 {
            let begin = ContinuousClock.now
            let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            guard written == bytes.count, fdatasync(fd) == 0 else { throw ValidationError("write/fdatasync failed on \(path)") }
            samples.append(ContinuousClock.now - begin)
        }
        samples.sort()
        print(
            "disk: write + fdatasync of \(payloadBytes) B: p50 \(micros(percentile(samples, 0.5))),"
                + " p99 \(micros(percentile(samples, 0.99))) (200 samples)")
    }

    /// Closed-loop writers, as RPC handlers: append, wait until durable, repeat.
    private func benchAppends(directory: String, writers: Int) async throws {
        let store = try DurableStore(
            directory: directory, configuration: StorageConfiguration(durability: .always), logger: Logger(label: "bench"))
        _ = try store.recover(snapshot: { _ in }, replay: { _, _ in })
        let payload = [UInt8]((0..<payloadBytes).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        let started = ContinuousClock.now
        let deadline = started + .milliseconds(Int(seconds * 1000))
        let latencies = try await withThrowingTaskGroup(of: [Duration].self) { group in
            for _ in 0..<writers {
                group.addTask {
                    var latencies: [Duration] = []
                    latencies.reserveCapacity(1 << 16)
                    while ContinuousClock.now < deadline {
                        let begin = ContinuousClock.now
                        let sequence = try store.append(payload)
                        try await store.waitDurable(sequence)
                        latencies.append(ContinuousClock.now - begin)
                    }
                    return latencies
                }
            }
            var all: [Duration] = []
            for try await part in group { all += part }
            return all
        }
        let elapsed = ContinuousClock.now - started
        let statistics = store.commitStatistics
        store.close()
        if writers != self.writers.max() { removeTree(directory) }
        let sorted = latencies.sorted()
        let rate = Double(latencies.count) / elapsed.seconds
        print(
            "always, \(pad(writers, 2)) writer\(writers == 1 ? " " : "s"): \(group(Int(rate.rounded()))) durable appends/s"
                + "  (\(latencies.count) in \(formatDecimal(elapsed.seconds, places: 2)) s, \(payloadBytes) B payload,"
                + " \(formatDecimal(statistics.averageBatch, places: 1)) records/fsync,"
                + " latency p50 \(micros(percentile(sorted, 0.50))) p99 \(micros(percentile(sorted, 0.99))))")
    }

    /// Recovery of the log the largest append run left: every record read, checked and replayed.
    private func benchReplay(directory: String) throws {
        let store = try DurableStore(directory: directory, configuration: StorageConfiguration(), logger: Logger(label: "bench"))
        var bytes = 0
        let start = ContinuousClock.now
        let report = try store.recover(snapshot: { _ in }, replay: { _, payload in bytes += payload.count })
        let elapsed = ContinuousClock.now - start
        store.close()
        removeTree(directory)
        print(
            "log replay at recovery: \(group(Int(report.replayedRecords))) records (\(formatMiB(UInt64(bytes))) of payload,"
                + " \(report.segmentsRead) segment(s)) in \(millis(elapsed))")
    }

    /// One snapshot of `records` small records: write (compress + fsync + rename) and load times.
    private func benchSnapshot(directory: String) throws {
        let sample = SampleUserRecords(count: records)
        let logger = Logger(label: "bench")
        let store = try DurableStore(directory: directory, configuration: StorageConfiguration(durability: .always), logger: logger)
        _ = try store.recover(snapshot: { _ in }, replay: { _, _ in })
        let sequence = try store.append([1])
        let writeStart = ContinuousClock.now
        let report = try store.writeSnapshot(coveringSequence: sequence) { writer in
            try sample.forEach { try writer.append($0) }
        }
        let writeTime = ContinuousClock.now - writeStart
        store.close()

        let reopened = try DurableStore(directory: directory, configuration: StorageConfiguration(durability: .always), logger: logger)
        var loaded = 0
        var loadedBytes = 0
        let loadStart = ContinuousClock.now
        let recovery = try reopened.recover(
            snapshot: { reader in
                while let record = try reader.next() {
                    loaded += 1
                    loadedBytes += record.count
                }
            },
            replay: { _, _ in })
        let loadTime = ContinuousClock.now - loadStart
        reopened.close()
        removeTree(directory)
        guard loaded == sample.count, loadedBytes == sample.bytes.count else {
            throw ValidationError("snapshot load returned \(loaded) records (\(loadedBytes) bytes), expected \(sample.count)")
        }
        print(
            "snapshot of \(group(sample.count)) records (avg \(formatDecimal(sample.averageSize, places: 1)) B):"
                + " write \(millis(writeTime)), load \(millis(loadTime)) (\(recovery.snapshotRecords) records, warm page cache),"
                + " \(formatMiB(report.fileBytes)) on disk from \(formatMiB(report.uncompressedBytes)) uncompressed,"
                + " ratio \(formatDecimal(report.compressionRatio, places: 2))x")
    }

    private func makeScratchDirectory() throws -> String {
        var template = Array("/tmp/retain-storage-bench-XXXXXX".utf8CString)
        guard let created = template.withUnsafeMutableBufferPointer({ buffer in buffer.baseAddress.flatMap { mkdtemp($0) } }) else {
            throw ValidationError("cannot create a scratch directory under /tmp")
        }
        return String(cString: created)
    }
}

/// Removes a directory tree of plain files (the benchmark's scratch data).
func removeTree(_ path: String) {
    if let stream = opendir(path) {
        while let entry = readdir(stream) {
            let name = withUnsafePointer(to: &entry.pointee.d_name) {
                String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self))
            }
            if name == "." || name == ".." { continue }
            let child = path + "/" + name
            if entry.pointee.d_type == UInt8(DT_DIR) { removeTree(child) } else { unlink(child) }
        }
        closedir(stream)
    }
    rmdir(path)
}

extension Duration {
    /// The duration in seconds.
    var seconds: Double {
        let (whole, attoseconds) = components
        return Double(whole) + Double(attoseconds) / 1e18
    }
}

private func percentile(_ sorted: [Duration], _ fraction: Double) -> Duration {
    guard !sorted.isEmpty else { return .zero }
    return sorted[min(sorted.count - 1, Int(Double(sorted.count) * fraction))]
}

private func micros(_ duration: Duration) -> String {
    "\(Int((duration.seconds * 1e6).rounded())) µs"
}

private func millis(_ duration: Duration) -> String {
    "\(Int((duration.seconds * 1e3).rounded())) ms"
}

private func formatMiB(_ bytes: UInt64) -> String {
    formatDecimal(Double(bytes) / 1_048_576, places: 1) + " MiB"
}

private func pad(_ value: Int, _ width: Int) -> String {
    let text = String(value)
    return String(repeating: " ", count: max(0, width - text.count)) + text
}

/// `1234567` as `1,234,567`.
private func group(_ value: Int) -> String {
    let digits = Array(String(value))
    var result = ""
    for (index, digit) in digits.enumerated() {
        if index > 0, (digits.count - index) % 3 == 0 { result.append(",") }
        result.append(digit)
    }
    return result
}
