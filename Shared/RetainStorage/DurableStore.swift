public import Logging
import Synchronization

/// The storage every service uses: a write-ahead log with group commit, plus zstd snapshots.
///
/// A service keeps its state in memory behind its own lock. For every mutation it calls
/// ``append(_:)-(UnsafeRawBufferPointer)`` while holding that lock (so log order is apply order),
/// releases the lock, and answers the RPC only once ``whenDurable(_:_:)`` or
/// ``waitDurable(_:)`` confirms the record. At start it calls ``recover(snapshot:replay:)``, and
/// from time to time (``snapshotDue``) ``writeSnapshot(coveringSequence:_:)`` from a background
/// thread with a copy of its state.
///
/// ```swift
/// let store = try DurableStore(directory: "/data/ledger", configuration: .init(), logger: logger)
/// _ = try store.recover(
///     snapshot: { reader in while let record = try reader.next() { try state.load(record) } },
///     replay: { _, payload in try state.apply(payload) })
/// let sequence = try lock.withLock { try state.mutate(); return try store.append(bytes) }
/// try await store.waitDurable(sequence)
/// ```
///
/// Only one store may open a directory at a time (an exclusive `flock` on `<dir>/LOCK`). If a write
/// or sync fails, the store enters a failed state: every pending and later append gets
/// ``StorageError/unavailable(reason:)`` and nothing more is written until the process restarts
/// and recovers what is durable. See `docs/STORAGE.md` for the formats and guarantees.
public final class DurableStore: Sendable {
    /// The data directory.
    public let directory: String
    /// The configuration the store was opened with.
    public let configuration: StorageConfiguration

    let logger: Logger
    let dataDirectory: DataDirectory
    let directoryLock: DirectoryLock
    let queue: CommitQueue
    let committer = Mutex<CommitterThread?>(nil)
    /// Set by recovery, taken by ``startWriting()``.
    let writerStart = Mutex<WriterStart?>(nil)
    let snapshotState = Mutex(SnapshotState())
    /// What a replicating leader hears from the committer (nil: nothing).
    let taps = TapBox()

    /// Snapshot bookkeeping: the newest snapshot and whether one is being written.
    struct SnapshotState {
        var inProgress = false
        var coveredSequence: UInt64 = 0
        /// Monotonic time of the last snapshot (or of recovery).
        var takenAt = monotonicNanoseconds()
    }

    /// Opens (creating it and its parents if missing) a data directory and takes its lock.
    ///
    /// - Parameters:
    ///   - directory: The data directory; one per service instance.
    ///   - configuration: Durability, segment size, snapshot policy and limits.
    ///   - logger: Receives warnings (a truncated torn tail) and errors (a failed write).
    /// - Throws: ``StorageError/locked(directory:holderPID:)`` if another process (or store) has
    ///   it open; ``StorageError/io(operation:file:errno:)`` if it cannot be created or locked.
    public init(directory: String, configuration: StorageConfiguration, logger: Logger) throws(StorageError) {
        try Self.validate(configuration)
        try DataDirectory.create(path: directory)
        self.directory = directory
        self.configuration = configuration
        self.logger = logger
        self.dataDirectory = DataDirectory(path: directory)
        self.directoryLock = try DirectoryLock(directory: directory)
        self.queue = CommitQueue(maxRecordBytes: configuration.maxRecordBytes)
    }

    deinit {
        close()
    }

    private static func validate(_ configuration: StorageConfiguration) throws(StorageError) {
        guard configuration.maxRecordBytes > 0,
            configuration.maxRecordBytes <= LogRecordFrame.formatMaximumPayload
        else {
            throw .invalidOperation("maxRecordBytes must be between 1 and \(LogRecordFrame.formatMaximumPayload)")
        }
        guard configuration.segmentBytes > LogSegmentHeader.size else {
            throw .invalidOperation("segmentBytes must be larger than the \(LogSegmentHeader.size)-byte segment header")
        }
        if case .interval(let milliseconds) = configuration.durability, milliseconds <= 0 {
            throw .invalidOperation("the durability interval must be positive, not \(milliseconds) ms")
        }
    }

    /// Buffers one record for the log and returns its sequence (1, 2, 3, ...).
    ///
    /// Cheap — a checksum and a copy under a short lock — so callers may hold their own state
    /// lock around it. The record is not durable yet: wait with ``whenDurable(_:_:)`` or
    /// ``waitDurable(_:)`` before acknowledging it. The payload is copied before returning.
    ///
    /// - Throws: ``StorageError/unavailable(reason:)`` once the store has failed or is closed,
    ///   ``StorageError/recordTooLarge(size:limit:)`` above ``StorageConfiguration/maxRecordBytes``,
    ///   ``StorageError/invalidOperation(_:)`` before ``recover(snapshot:replay:)``.
    @discardableResult
    public func append(_ payload: UnsafeRawBufferPointer) throws(StorageError) -> UInt64 {
        try queue.append(payload)
    }

    /// Buffers one record whose payload's CRC32C the caller already computed (a replica, which
    /// checked it against its leader's frame); see ``append(_:)-(UnsafeRawBufferPointer)``.
    @discardableResult
    package func append(_ payload: UnsafeRawBufferPointer, payloadCRC: CRC32C) throws(StorageError) -> UInt64 {
        try queue.append(payload, payloadCRC: payloadCRC)
    }

    /// Runs `body`, whose appends the committer writes together: it takes none of them before
    /// `body` returns, so they share one write and one sync (a replica appends each batch its
    /// leader sends this way, and acknowledges it after one sync instead of two or three).
    public func appendingTogether<R, E: Error>(_ body: () throws(E) -> R) throws(E) -> R {
        queue.beginAppendingTogether()
        defer { queue.endAppendingTogether() }
        return try body()
    }

    /// Buffers one record for the log and returns its sequence; see ``append(_:)-(UnsafeRawBufferPointer)``.
    @discardableResult
    public func append(_ payload: [UInt8]) throws(StorageError) -> UInt64 {
        let result = payload.withUnsafeBytes { bytes in
            Result { () throws(StorageError) -> UInt64 in try queue.append(bytes) }
        }
        return try result.get()
    }

    /// Calls `callback` once `sequence` is durable per the durability mode, or with the error.
    ///
    /// Callbacks run on the store's committer thread in sequence order, and must be quick (resume
    /// a continuation, hand off to an event loop): the next batch waits for them. If `sequence`
    /// is already durable (and no earlier callback is still running), or the store has failed,
    /// `callback` runs at once on the calling thread.
    public func whenDurable(_ sequence: UInt64, _ callback: @escaping @Sendable (Result<Void, StorageError>) -> Void) {
        queue.whenDurable(sequence, callback)
    }

    /// Returns once `sequence` is durable per the durability mode.
    ///
    /// - Throws: ``StorageError/unavailable(reason:)`` if the store failed before it was durable.
    public func waitDurable(_ sequence: UInt64) async throws(StorageError) {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<Void, StorageError>, Never>) in
            queue.whenDurable(sequence) { continuation.resume(returning: $0) }
        }
        try result.get()
    }

    /// The sequence of the last record appended (or recovered); 0 for an empty store.
    public var lastSequence: UInt64 { queue.lastSequence }

    /// Bytes appended and not yet handed to the file system (a slow disk makes them grow).
    public var bufferedBytes: Int { queue.bufferedBytes }

    /// The highest sequence that is durable per the durability mode.
    public var durableSequence: UInt64 { queue.durableSequence }

    /// The error an append would get now: `nil` while the store accepts writes, set once it has
    /// failed (or before recovery, or after close). Services can report it in their health check.
    public var failure: StorageError? { queue.failure }

    /// Counters of the group committer.
    package var commitStatistics: CommitStatistics { queue.statistics }

    /// Flushes and syncs what is buffered, stops the committer thread, marks the shutdown clean
    /// (when everything was written) and releases the lock.
    ///
    /// Later appends throw ``StorageError/unavailable(reason:)``. Calling it again does nothing.
    public func close() {
        let wasRunning = queue.requestClose()
        let thread = committer.withLock { thread -> CommitterThread? in
            defer { thread = nil }
            return thread
        }
        thread?.join()
        if wasRunning, thread != nil, !queue.hasFailed {
            do {
                try CleanShutdownMarker(lastSequence: queue.lastSequence).write(dataDirectory)
            } catch {
                logger.warning("Could not mark the shutdown clean", metadata: ["error": "\(error)"])
            }
        }
        queue.markClosed()
        directoryLock.release()
    }
}
