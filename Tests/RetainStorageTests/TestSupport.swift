import Glibc
import Logging
import Synchronization
import Testing

import RetainStorage

/// A fresh directory under /tmp, removed (with everything in it) by ``remove()``.
struct ScratchDirectory {
    let path: String

    init() throws {
        var template = Array("/tmp/retain-storage-test-XXXXXX".utf8CString)
        let created = template.withUnsafeMutableBufferPointer { buffer in buffer.baseAddress.flatMap { mkdtemp($0) } }
        guard let created else { throw StorageError.io(operation: "mkdtemp", file: "/tmp", errno: errno) }
        path = String(cString: created)
    }

    /// The data directory used by most tests.
    var data: String { path + "/data" }

    func remove() {
        removeTree(path)
    }
}

/// Removes a directory tree.
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

/// Names in a directory, sorted, without `.` and `..`.
func listFiles(_ path: String) -> [String] {
    guard let stream = opendir(path) else { return [] }
    defer { closedir(stream) }
    var names: [String] = []
    while let entry = readdir(stream) {
        let name = withUnsafePointer(to: &entry.pointee.d_name) {
            String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self))
        }
        if name != "." && name != ".." { names.append(name) }
    }
    return names.sorted()
}

/// The whole content of a file.
func readFile(_ path: String) throws -> [UInt8] {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { throw StorageError.io(operation: "open", file: path, errno: errno) }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard count > 0 else { break }
        bytes += chunk[0..<count]
    }
    return bytes
}

/// Replaces a file's content.
func writeFile(_ path: String, _ bytes: [UInt8]) throws {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    guard fd >= 0 else { throw StorageError.io(operation: "open", file: path, errno: errno) }
    defer { close(fd) }
    _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
}

/// Flips one bit of a file in place.
func flipBit(_ path: String, at offset: Int, bit: Int = 0) throws {
    var bytes = try readFile(path)
    bytes[offset] ^= UInt8(1 << bit)
    try writeFile(path, bytes)
}

/// Cuts a file to `length` bytes.
func truncateFile(_ path: String, to length: Int) {
    _ = truncate(path, off_t(length))
}

/// The size of a file.
func fileSize(_ path: String) -> Int {
    var info = stat()
    return stat(path, &info) == 0 ? Int(info.st_size) : -1
}

/// Whether a path exists.
func exists(_ path: String) -> Bool {
    access(path, F_OK) == 0
}

/// A recognisable payload for `sequence`: its number in text, padded with a pattern to `length`.
func payload(_ sequence: UInt64, length: Int = 40) -> [UInt8] {
    var bytes = Array("record-\(sequence)|".utf8)
    while bytes.count < length { bytes.append(UInt8(truncatingIfNeeded: bytes.count &* 7 &+ Int(sequence))) }
    return Array(bytes.prefix(max(length, 0)))
}

/// The segment files of a data directory, oldest first.
func segmentFiles(_ directory: String) -> [String] {
    listFiles(directory).filter { $0.hasPrefix("log-") && $0.hasSuffix(".wal") }
}

/// The snapshot files of a data directory, oldest first.
func snapshotFiles(_ directory: String) -> [String] {
    listFiles(directory).filter { $0.hasPrefix("snapshot-") && $0.hasSuffix(".snap") }
}

/// Offset of record `index` (0-based) in a segment whose records have the given payload sizes.
func recordOffset(_ index: Int, payloadSizes: [Int]) -> Int {
    LogSegmentHeader.size + payloadSizes.prefix(index).reduce(0) { $0 + LogRecordFrame.headerSize + $1 }
}

/// A log handler that keeps messages, so tests can check warnings and stay quiet.
struct RecordingLogHandler: LogHandler {
    final class Messages: Sendable {
        let entries = Mutex<[(level: Logger.Level, message: String)]>([])
        func contains(level: Logger.Level, _ fragment: String) -> Bool {
            entries.withLock { $0.contains { $0.level == level && $0.message.contains(fragment) } }
        }
    }

    let messages: Messages
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        messages.entries.withLock { $0.append((event.level, event.message.description)) }
    }
}

/// A logger that records into `messages`.
func testLogger(_ messages: RecordingLogHandler.Messages = .init()) -> Logger {
    Logger(label: "storage-test") { _ in RecordingLogHandler(messages: messages) }
}

/// Everything a recovery handed back.
struct Recovered {
    var snapshot: [[UInt8]] = []
    var log: [(sequence: UInt64, payload: [UInt8])] = []
    var report = RecoveryReport()

    var logSequences: [UInt64] { log.map(\.sequence) }
    var logPayloads: [[UInt8]] { log.map(\.payload) }
}

/// Opens `directory` and recovers it, collecting what it holds.
func openAndRecover(
    _ directory: String, configuration: StorageConfiguration = StorageConfiguration(),
    logger: Logger = testLogger()
) throws -> (DurableStore, Recovered) {
    let store = try DurableStore(directory: directory, configuration: configuration, logger: logger)
    var recovered = Recovered()
    do {
        recovered.report = try store.recover(
            snapshot: { reader in
                while let record = try reader.next() { recovered.snapshot.append(Array(record)) }
            },
            replay: { sequence, payload in recovered.log.append((sequence, Array(payload))) })
    } catch {
        store.close()
        throw error
    }
    return (store, recovered)
}

/// Recovers `directory` and closes it again.
func recoverAndClose(
    _ directory: String, configuration: StorageConfiguration = StorageConfiguration(),
    logger: Logger = testLogger()
) throws -> Recovered {
    let (store, recovered) = try openAndRecover(directory, configuration: configuration, logger: logger)
    store.close()
    return recovered
}

/// Appends `payloads` and waits until the last is durable; returns their sequences.
@discardableResult
func appendDurably(_ store: DurableStore, _ payloads: [[UInt8]]) async throws -> [UInt64] {
    var sequences: [UInt64] = []
    for bytes in payloads { sequences.append(try store.append(bytes)) }
    if let last = sequences.last { try await store.waitDurable(last) }
    return sequences
}

/// `error` as a ``StorageError`` (or a test failure).
func storageError(_ error: (any Error)?, sourceLocation: SourceLocation = #_sourceLocation) -> StorageError? {
    guard let error = error as? StorageError else {
        Issue.record("expected a StorageError, got \(String(describing: error))", sourceLocation: sourceLocation)
        return nil
    }
    return error
}

/// A `Mutex` in a class, so concurrent closures can share it.
final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    init(_ value: Value) {
        mutex = Mutex(value)
    }

    func withLock<R, E: Error>(_ body: (inout sending Value) throws(E) -> sending R) throws(E) -> sending R {
        try mutex.withLock(body)
    }

    var value: Value { mutex.withLock { $0 } }
}

/// Removes the clean-shutdown marker a closed store left, as a crash (which writes none) would.
func forgetCleanShutdown(_ directory: String) {
    unlink(directory + "/CLEAN")
}
