import Foundation
public import Logging
import RetainProto
public import RetainStorage
public import Synchronization

/// Keeps a ``PersistentState`` in memory behind a lock and durable on disk, through one write
/// path for every service: **decide -> log -> make visible -> answer**.
///
/// - A write runs under the lock: its body decides, each change is applied and encoded
///   (``StateTransaction/log(_:)``), and the encoded changes are appended to the write-ahead log
///   in apply order. The caller answers only once ``whenDurable(_:_:)`` reports the returned
///   ``Commit`` durable. A write that changes nothing (a replay, a duplicate, a refusal decided
///   from the state) still carries the sequence of the state it looked at, so its answer waits
///   until the original it refers to is durable.
/// - A read (``observe(_:)``) returns its value with the sequence of the state it saw; the answer
///   is released once that sequence is durable (at once when nothing is pending). So no caller,
///   on any connection, sees a write before it is durable. The cost: a read that lands while
///   writes are in flight waits for their group commit (one `fdatasync`); reads with nothing
///   pending pay one atomic load.
/// - A failed append (disk full, I/O error) never leaves memory ahead of the disk: the storage
///   cuts the log back to what was acknowledged, the store refuses reads and writes, rebuilds
///   the state from the disk in place, serves reads again, and resumes writes once the log can
///   be written. While it is not ``Condition/available`` a service reports NOT_SERVING.
///   A change that cannot be logged (over the record limit) is undone the same way.
///
/// Without a directory the store is memory-only (for unit tests): writes are durable at once.
public final class StateStore<State: PersistentState>: Sendable {
    /// Whether the store serves reads and writes.
    public enum Condition: Sendable, Equatable, CustomStringConvertible {
        /// Reads and writes are served.
        case available
        /// The state is being rebuilt from the disk after a storage failure: reads and writes
        /// are refused (UNAVAILABLE, safe to retry).
        case recovering(reason: String)
        /// Reads are served from what the disk holds; writes are refused until the log can be
        /// written again (a full disk).
        case readOnly(reason: String)

        public var description: String {
            switch self {
            case .available: "available"
            case .recovering(let reason): "recovering: \(reason)"
            case .readOnly(let reason): "read-only: \(reason)"
            }
        }
    }

    /// The state with the log sequence of the last change applied to it.
    @usableFromInline
    struct Shelf: Sendable {
        @usableFromInline var state: State
        /// The sequence of the last change applied to `state` (0 before any).
        @usableFromInline var visible: UInt64
        /// Memory may hold changes the disk does not: reads and writes are refused until the
        /// state is rebuilt from the disk.
        @usableFromInline var stale = false
    }

    private struct Health {
        var condition = Condition.available
        var handlers: [@Sendable (Condition) -> Void] = []
    }

    @usableFromInline let shelf: Mutex<Shelf>
    let store: DurableStore?
    let logger: Logger
    private let maximumRecordBytes: Int
    private let maximumBufferedBytes: Int
    private let health = Mutex(Health())
    /// Serializes snapshots and in-place recoveries: recovery removes unfinished files.
    let maintenance = Mutex(())
    /// The shard's commit point and this process's role, when the store is replicated.
    @usableFromInline let gate: CommitGate?

    /// Opens `directory` (nil for memory-only), recovers the state, and is ready for writes.
    /// Throws when the directory is locked by another process or corrupt (see docs/STORAGE.md).
    ///
    /// With `replicated`, answers are released only once the shard commits them (see
    /// ``commitGate``), and the store refuses writes and reads until its role is set.
    public init(
        directory: String?, configuration: StorageConfiguration = StorageConfiguration(),
        replicated: Bool = false, logger: Logger
    ) throws {
        self.logger = logger
        gate = replicated ? CommitGate() : nil
        guard let directory else {
            shelf = Mutex(Shelf(state: State(), visible: 0))
            store = nil
            maximumRecordBytes = .max
            maximumBufferedBytes = .max
            return
        }
        let store = try DurableStore(directory: directory, configuration: configuration, logger: logger)
        let recovered: (State, UInt64)
        do {
            recovered = try Self.recover(store, startWriting: true, logger: logger)
        } catch {
            store.close()
            throw error
        }
        shelf = Mutex(Shelf(state: recovered.0, visible: recovered.1))
        self.store = store
        maximumRecordBytes = configuration.maxRecordBytes
        maximumBufferedBytes = configuration.maxBufferedBytes
    }

    /// Loads the newest snapshot and replays the log after it into a fresh state.
    static func recover(_ store: DurableStore, startWriting: Bool, logger: Logger) throws -> (State, UInt64) {
        var recovered = State()
        let arena = ProtoArena(blockSize: 16 << 10)
        let report = try store.recover(
            snapshot: { reader in
                try withUnsafeMutablePointer(to: &reader) { pointer in
                    var source = SnapshotSource(reader: pointer)
                    try recovered.restore(from: &source)
                }
            },
            replay: { sequence, payload in
                arena.reset()
                let entry: State.LogEntry
                do {
                    entry = try ProtoCodec.decode(State.LogEntry.self, from: payload, arena: arena)
                } catch {
                    throw StateRecoveryError("log record \(sequence) does not decode as \(State.LogEntry.protoName): \(error)")
                }
                do {
                    try recovered.apply(entry)
                } catch {
                    throw StateRecoveryError("log record \(sequence) does not apply: \(error)")
                }
            },
            startWriting: startWriting)
        logger.info("recovered state", metadata: ["report": "\(report)"])
        return (recovered, report.lastSequence)
    }

    // MARK: Reads

    /// Reads the state under the lock, **including changes that may not be durable yet**.
    ///
    /// For work that answers no caller (choosing what a sweeper should do, benchmarks, tests);
    /// anything a caller sees goes through ``observe(_:)`` and waits for durability.
    public func read<R: Sendable>(_ body: (borrowing State) throws -> R) rethrows -> R {
        try shelf.withLock { shelf in try body(shelf.state) }
    }

    /// Reads the state under the lock and returns the value with the sequence of the state it
    /// saw. Release the value to a caller only once ``isDurable(_:)`` says so, or from
    /// ``whenDurable(_:_:)``.
    ///
    /// - Throws: ``StateStoreError/unavailable(reason:notProcessed:)`` while the state is being
    ///   rebuilt after a storage failure, or what `body` throws.
    ///
    /// A replicated store serves reads only as the shard's leader, unless `replicaRead` allows a
    /// replica to answer from what it has (committed records only, possibly behind the leader).
    ///
    /// With `maxStalenessMs`, a replica answers only when it held everything its leader had
    /// committed at most that long ago (``CommitGate/freshAsOfMs``, against this machine's
    /// clock), and refuses with ``StateStoreError/tooStale(stalenessMs:boundMs:leader:)``
    /// otherwise; the leader is never stale.
    ///
    /// Inlinable, so that a service's reads are specialized for its state: unspecialized, each
    /// read looked up the metadata of `Observation`, `Shelf` and their `Mutex` at run time.
    @inlinable
    public func observe<R>(
        replicaRead: Bool = false, maxStalenessMs: Int64? = nil, _ body: (borrowing State) throws -> R
    ) throws -> Observation<R> {
        if gate != nil { try checkRole(replicaRead: replicaRead, maxStalenessMs: maxStalenessMs) }
        return try shelf.withLock { shelf in
            if shelf.stale { throw StateStoreError.recovering }
            return Observation(value: try body(shelf.state), sequence: shelf.visible, generation: gate?.generation ?? 0)
        }
    }

    /// Refuses a read this replicated process may not answer in its role (see ``observe(replicaRead:maxStalenessMs:_:)``).
    @usableFromInline
    func checkRole(replicaRead: Bool, maxStalenessMs: Int64?) throws {
        guard let gate else { return }
        switch gate.role {
        case .leader: break
        case .replica(let leader) where replicaRead:
            if let bound = maxStalenessMs {
                let freshAs = gate.freshAsOfMs
                let staleness = freshAs == 0 ? nil : max(0, Int64(Date().timeIntervalSince1970 * 1000) - freshAs)
                guard let staleness, staleness <= bound else {
                    throw StateStoreError.tooStale(stalenessMs: staleness, boundMs: bound, leader: leader)
                }
            }
        default: throw gate.writeRefusal() ?? .notLeader(leader: nil)
        }
    }

    /// Whether everything up to `sequence` is durable (always, memory-only) and, replicated,
    /// committed by the shard in `generation` (the one an observation or commit carries).
    /// One or two atomic loads.
    public func isDurable(_ sequence: UInt64, generation: UInt64? = nil) -> Bool {
        guard let store else { return true }
        guard sequence <= store.durableSequence else { return false }
        guard let gate else { return true }
        return sequence <= gate.committedSequence && (generation == nil || generation == gate.generation)
    }

    /// Calls back once everything up to `sequence` is durable (and, replicated, committed in
    /// `generation`), or with why it never will be.
    public func whenDurable(
        sequence: UInt64, generation: UInt64? = nil,
        _ callback: @escaping @Sendable (Result<Void, StateStoreError>) -> Void
    ) {
        guard let store, sequence > 0 else { return callback(.success(())) }
        store.whenDurable(sequence) { [self] result in
            switch result {
            case .success:
                guard let gate else { return callback(.success(())) }
                gate.whenCommitted(sequence, generation: generation ?? gate.generation, callback)
            case .failure(let error): callback(.failure(storageFailed(error)))
            }
        }
    }

    /// The shard's commit point and this process's role; nil unless the store is replicated.
    public var commitGate: CommitGate? { gate }

    /// Reads and waits until what was read is durable.
    public func readDurably<R: Sendable>(
        replicaRead: Bool = false, maxStalenessMs: Int64? = nil, _ body: (borrowing State) throws -> R
    ) async throws -> R {
        let observation = try observe(replicaRead: replicaRead, maxStalenessMs: maxStalenessMs, body)
        if !isDurable(observation.sequence, generation: observation.generation) {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                whenDurable(sequence: observation.sequence, generation: observation.generation) { continuation.resume(with: $0) }
            }
        }
        return observation.value
    }

    // MARK: Writes

    /// Runs `body` under the lock. Changes go through ``StateTransaction/log(_:)``, which applies
    /// and encodes them; they are appended to the log when `body` returns. Answer the caller only
    /// once ``whenDurable(_:_:)`` reports the returned ``Commit`` durable: the commit carries the
    /// sequence of the state the body saw even when it logged nothing.
    ///
    /// Entries logged before `body` throws are kept: validate before logging.
    ///
    /// - Throws: ``StateStoreError/unavailable(reason:notProcessed:)`` when the store does not
    ///   take writes now (nothing was changed); ``StateStoreError/recordTooLarge(size:limit:)``
    ///   when a change cannot be logged (it is undone by rebuilding the state from the disk);
    ///   or what `body` throws.
    public func write<R: Sendable>(_ body: (inout StateTransaction<State>) throws -> R) throws -> Commit<R> {
        if let refusal = writeRefusal() { throw refusal }
        if let store, store.bufferedBytes > maximumBufferedBytes {
            throw StateStoreError.overloaded(
                "\(store.bufferedBytes) bytes of changes wait for the disk (limit \(maximumBufferedBytes)): retry shortly")
        }
        var undo: String?
        let result: Result<Commit<R>, any Error> = shelf.withLock { shelf in
            if shelf.stale { return .failure(StateStoreError.recovering) }
            // Checked under the lock: a step-down changes the role before it rebuilds the state.
            if let refusal = gate?.writeRefusal() { return .failure(refusal) }
            let generation = gate?.generation ?? 0
            return withUnsafeMutablePointer(to: &shelf.state) { pointer in
                var transaction = StateTransaction(pointer, maximumRecordBytes: maximumRecordBytes, encodes: store != nil)
                var thrown: (any Error)?
                var value: R?
                do {
                    value = try body(&transaction)
                } catch {
                    thrown = error
                }
                if transaction.unlogged { undo = "a change could not be logged" }
                if let store {
                    for bytes in transaction.encoded {
                        do throws(StorageError) {
                            shelf.visible = try store.append(bytes)
                        } catch {
                            undo = "an append failed: \(error)"
                            thrown = Self.callerError(error, discarded: store.failureDiscardedUnacknowledged)
                            break
                        }
                    }
                }
                if undo != nil { shelf.stale = true }
                if let thrown { return .failure(thrown) }
                return .success(Commit(value: value!, sequence: store == nil ? nil : shelf.visible, generation: generation))
            }
        }
        if let undo { recoverInPlace(reason: undo) }
        return try result.get()
    }

    /// Calls back once `commit` is durable, or with why it is not (the store then recovers in
    /// place; the error says whether the write is known not to be on disk).
    public func whenDurable<R>(_ commit: Commit<R>, _ callback: @escaping @Sendable (Result<R, StateStoreError>) -> Void)
    where R: Sendable {
        let value = commit.value
        guard let sequence = commit.sequence, !isDurable(sequence, generation: commit.generation) else {
            return callback(.success(value))
        }
        whenDurable(sequence: sequence, generation: commit.generation) { result in callback(result.map { value }) }
    }

    /// Writes and waits until durable.
    public func writeDurably<R: Sendable>(_ body: (inout StateTransaction<State>) throws -> R) async throws -> R {
        let commit = try write(body)
        return try await withCheckedThrowingContinuation { continuation in
            whenDurable(commit) { continuation.resume(with: $0) }
        }
    }

    /// Why a write would be refused now, if it would.
    private func writeRefusal() -> StateStoreError? {
        switch health.withLock({ $0.condition }) {
        case .available: nil
        case .recovering(let reason), .readOnly(let reason):
            .unavailable(reason: "writes are refused: \(reason)", notProcessed: true)
        }
    }

    /// The caller's view of a storage failure, and the start of the recovery it calls for.
    /// Never call it under the state lock.
    private func storageFailed(_ error: StorageError) -> StateStoreError {
        let discarded = store?.failureDiscardedUnacknowledged
        recoverInPlace(reason: "\(error)")
        return Self.callerError(error, discarded: discarded)
    }

    private static func callerError(_ error: StorageError, discarded: Bool?) -> StateStoreError {
        switch error {
        case .recordTooLarge(let size, let limit):
            return .recordTooLarge(size: size, limit: limit)
        case .unavailable(let reason):
            // The log was cut back to what was acknowledged: a write that failed is not on disk,
            // and the state is rebuilt without it.
            return .unavailable(reason: reason, notProcessed: discarded ?? true)
        default:
            return .unavailable(reason: "\(error)", notProcessed: discarded ?? true)
        }
    }

    // MARK: Condition

    /// Whether the store serves reads and writes now.
    public var condition: Condition { health.withLock { $0.condition } }

    /// Calls `handler` with the current condition now and with every change (a service turns
    /// it into its health and readiness).
    public func onConditionChange(_ handler: @escaping @Sendable (Condition) -> Void) {
        let current = health.withLock { health in
            health.handlers.append(handler)
            return health.condition
        }
        handler(current)
    }

    /// Moves to `condition` and tells the handlers; with `onlyFromAvailable`, only when the store
    /// is available now (so one recovery starts at a time). Returns whether it moved.
    @discardableResult
    private func setCondition(_ condition: Condition, onlyFromAvailable: Bool = false) -> Bool {
        let handlers = health.withLock { health -> [@Sendable (Condition) -> Void]? in
            if onlyFromAvailable, health.condition != .available { return nil }
            health.condition = condition
            return health.handlers
        }
        guard let handlers else { return false }
        for handler in handlers { handler(condition) }
        return true
    }

    /// Rebuilds the state from the disk on a thread of its own (once at a time): the log was cut
    /// back to what was acknowledged (or a change could not be logged), so memory may hold
    /// changes the disk does not. Reads are refused until the state is rebuilt; writes until
    /// the log can be written again.
    func recoverInPlace(reason: String) {
        guard let store else { return }
        if store.failureDiscardedUnacknowledged == false {
            // The log could not be cut back: records whose writers were told of a failure may
            // be on disk. Stop, as PostgreSQL does on a failed fsync; a restart recovers.
            logger.critical("storage failed and the log could not be cut back to what was acknowledged; stopping")
            _exit(70)
        }
        guard setCondition(.recovering(reason: reason), onlyFromAvailable: true) else { return }
        shelf.withLock { $0.stale = true }
        logger.error("storage failed: rebuilding the state from the disk", metadata: ["reason": "\(reason)"])
        Thread.detachNewThread { [self] in
            maintenance.withLock { _ in rebuild(store, reason: reason) }
        }
    }

    /// Free space the file system must have before writes resume after a failure (8 MiB).
    static var freeSpaceToResume: Int { 8 << 20 }

    private func rebuild(_ store: DurableStore, reason: String) {
        retrying("rebuilding the state failed; retrying") {
            store.restartForRecovery()
            let (state, last) = try Self.recover(store, startWriting: false, logger: logger)
            shelf.withLock { $0 = Shelf(state: state, visible: last) }
        }
        setCondition(.readOnly(reason: reason))
        retrying("the log cannot be written yet; reads are served, writes refused") {
            // Room for a few large records first: a disk that is still full stays read-only
            // here rather than failing the next write and rebuilding again.
            try store.probeFreeSpace(bytes: Self.freeSpaceToResume)
            try store.startWriting()
        }
        setCondition(.available)
        logger.notice("storage recovered: reads and writes are served again")
    }

    /// Runs `body` until it succeeds, logging each failure and waiting 50 ms, doubling to 1 s.
    private func retrying(_ message: Logger.Message, _ body: () throws -> Void) {
        var delay = 0.05
        while true {
            do {
                return try body()
            } catch {
                logger.warning(message, metadata: ["error": "\(error)"])
                Thread.sleep(forTimeInterval: delay)
                delay = min(delay * 2, 1)
            }
        }
    }

    // MARK: Snapshots

    /// Whether the snapshot policy says a snapshot is due.
    public var snapshotDue: Bool { store?.snapshotDue ?? false }

    /// Writes a snapshot of the current state, from a copy taken under the lock, while writes
    /// continue. Returns nil when memory-only, recovering, or nothing changed since the last
    /// snapshot. The snapshot is put in place only once everything it covers is durable.
    @discardableResult
    public func snapshot() throws -> SnapshotReport? {
        guard let store else { return nil }
        return try maintenance.withLock { _ -> SnapshotReport? in
            let taken = shelf.withLock { shelf -> (State, UInt64, UInt64)? in
                shelf.stale ? nil : (shelf.state, shelf.visible, gate?.generation ?? 0)
            }
            guard let (copy, sequence, generation) = taken, sequence > store.snapshotSequence else { return nil }
            // A replicated snapshot covers committed records only: they are never cut from the
            // log, so a replica can always cut its uncommitted tail without undoing a snapshot.
            if let gate, !gate.waitCommitted(sequence, generation: generation, timeout: .seconds(30)) { return nil }
            return try store.writeSnapshot(coveringSequence: sequence) { writer in
                try withUnsafeMutablePointer(to: &writer) { pointer in
                    var sink = SnapshotSink(writer: pointer)
                    try copy.writeSnapshot(to: &sink)
                }
            }
        }
    }

    /// Flushes and closes the log; later writes fail.
    public func close() {
        store?.close()
    }
}

/// A value read from the state, with the sequence of the state it was read from.
public struct Observation<Value> {
    /// What the read returned.
    public let value: Value
    /// The last log sequence applied to the state it saw.
    public let sequence: UInt64
    /// The replication generation it was read in (0 unreplicated).
    public let generation: UInt64

    public init(value: Value, sequence: UInt64, generation: UInt64 = 0) {
        self.value = value
        self.sequence = sequence
        self.generation = generation
    }
}

extension Observation: Sendable where Value: Sendable {}

/// Why the store refused a read or a write, in its own words (the service layer maps them to
/// status codes).
public enum StateStoreError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The store cannot serve this now (a storage failure, a rebuild in progress). When
    /// `notProcessed` is true, the write is known not to have happened: retrying is safe.
    case unavailable(reason: String, notProcessed: Bool)
    /// A change is larger than the log accepts; nothing was changed.
    case recordTooLarge(size: Int, limit: Int)
    /// Too many changes wait for the disk; nothing was changed, retry shortly.
    case overloaded(String)
    /// This process does not lead its shard (replicated): nothing was changed; the leader is at
    /// `leader` when known.
    case notLeader(leader: String?)
    /// A replica read bounded by `max-staleness-ms` (`boundMs`) that this replica cannot answer
    /// within it: it last held everything its leader had committed `stalenessMs` ago (nil: not
    /// since it became a replica). Nothing was read; the leader (at `leader`, when known) can answer.
    case tooStale(stalenessMs: Int64?, boundMs: Int64, leader: String?)

    @usableFromInline static let recovering = StateStoreError.unavailable(
        reason: "the state is being rebuilt from the disk after a storage failure", notProcessed: true)

    public var description: String {
        switch self {
        case .unavailable(let reason, _):
            return "storage unavailable: \(reason)"
        case .overloaded(let reason):
            return "storage overloaded: \(reason)"
        case .notLeader(let leader):
            return "this process does not lead its shard" + (leader.map { "; the leader is at \($0)" } ?? "; no leader is known yet")
        case .tooStale(let staleness, let bound, let leader):
            return
                (staleness.map { "this replica may be up to \($0) ms behind its leader" }
                ?? "this replica has not yet heard from its leader")
                + ", more than the read's max-staleness-ms \(bound)" + (leader.map { "; the leader is at \($0)" } ?? "")
        case .recordTooLarge(let size, let limit):
            return "the change encodes to a log record of \(size) bytes, over the storage limit of \(limit) bytes"
                + " (--max-record-bytes); nothing was changed"
        }
    }
}

/// What a write returned, and the log position that must be durable before answering.
public struct Commit<Value> {
    /// What the write's body returned.
    public let value: Value
    /// The sequence that must be durable before the value is released: the last one the write
    /// appended, or the last one applied to the state it looked at. Nil memory-only.
    public let sequence: UInt64?
    /// The replication generation it was written in (0 unreplicated).
    public let generation: UInt64

    public init(value: Value, sequence: UInt64?, generation: UInt64 = 0) {
        self.value = value
        self.sequence = sequence
        self.generation = generation
    }
}

extension Commit: Sendable where Value: Sendable {}

/// The changes one ``StateStore/write(_:)`` makes.
public struct StateTransaction<State: PersistentState>: ~Copyable {
    private let pointer: UnsafeMutablePointer<State>
    private let maximumRecordBytes: Int
    private let encodes: Bool
    /// The encoded entries, in the order they were applied.
    fileprivate var encoded: [[UInt8]] = []
    /// Whether an entry was applied but could not be logged.
    fileprivate var unlogged = false

    fileprivate init(_ pointer: UnsafeMutablePointer<State>, maximumRecordBytes: Int, encodes: Bool) {
        self.pointer = pointer
        self.maximumRecordBytes = maximumRecordBytes
        self.encodes = encodes
    }

    /// The state, with every entry logged so far applied.
    public var state: State {
        unsafeAddress { UnsafePointer(pointer) }
    }

    /// Runs `body` with the state borrowed in place. Passing ``state`` itself as an argument
    /// makes the caller copy the whole state first (a retain and release of every container it
    /// holds); this does not.
    public func withState<R>(_ body: (borrowing State) throws -> R) rethrows -> R {
        // Through an inout access: a value read from `pointee` would be copied to be borrowed.
        try Self.borrow(&pointer.pointee, body)
    }

    private static func borrow<R>(_ state: inout State, _ body: (borrowing State) throws -> R) rethrows -> R {
        try body(state)
    }

    /// Applies `entry` to the state, as completed by ``PersistentState/apply(completing:)``, and
    /// encodes it for the log; returns what applying it decided. Throws what `apply` throws,
    /// changing nothing, or ``StateStoreError/recordTooLarge(size:limit:)`` when the completed
    /// entry is over the log's record limit (the store then undoes it).
    @discardableResult
    public mutating func log(_ entry: State.LogEntry) throws -> State.Outcome {
        var entry = entry
        let outcome = try pointer.pointee.apply(completing: &entry)
        guard encodes else { return outcome }
        let bytes = entry.serializedBytes()
        guard bytes.count <= maximumRecordBytes else {
            unlogged = true
            throw StateStoreError.recordTooLarge(size: bytes.count, limit: maximumRecordBytes)
        }
        encoded.append(bytes)
        return outcome
    }
}
