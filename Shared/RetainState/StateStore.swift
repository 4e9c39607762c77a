public import Logging
import RetainProto
public import RetainStorage
import Synchronization

/// Keeps a ``PersistentState`` in memory behind a lock and durable on disk: every change is
/// applied and appended to the write-ahead log under the lock (so log order is apply order),
/// and callers answer once the change is durable. Recovery loads the newest snapshot and
/// replays the log after it; snapshots are written from a copy of the state while writes go on.
///
/// Without a directory the store is memory-only (for unit tests): writes are durable at once.
public final class StateStore<State: PersistentState>: Sendable {
    private let state: Mutex<State>
    private let store: DurableStore?
    private let logger: Logger

    /// Opens `directory` (nil for memory-only), recovers the state, and is ready for writes.
    /// Throws when the directory is locked by another process or corrupt (see docs/STORAGE.md).
    public init(directory: String?, configuration: StorageConfiguration = StorageConfiguration(),
                logger: Logger) throws {
        self.logger = logger
        guard let directory else {
            state = Mutex(State())
            store = nil
            return
        }
        let store = try DurableStore(directory: directory, configuration: configuration, logger: logger)
        var recovered = State()
        let arena = ProtoArena(blockSize: 16 << 10)
        do {
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
                })
            logger.info("recovered state", metadata: ["report": "\(report)"])
        } catch {
            store.close()
            throw error
        }
        state = Mutex(recovered)
        self.store = store
    }

    /// Reads the state under the lock.
    public func read<R: Sendable>(_ body: (borrowing State) throws -> R) rethrows -> R {
        try state.withLock { state in try body(state) }
    }

    /// Runs `body` under the lock. Changes go through ``StateTransaction/log(_:)``, which applies
    /// them at once and appends them to the log when `body` returns. Answer the caller only
    /// once ``whenDurable(_:_:)`` reports the returned ``Commit`` durable.
    ///
    /// Entries logged before `body` throws are kept: validate before logging.
    public func write<R: Sendable>(_ body: (inout StateTransaction<State>) throws -> R) throws -> Commit<R> {
        try state.withLock { state in
            try withUnsafeMutablePointer(to: &state) { pointer in
                var transaction = StateTransaction(pointer)
                var thrown: (any Error)?
                var value: R?
                do {
                    value = try body(&transaction)
                } catch {
                    thrown = error
                }
                var sequence: UInt64?
                if let store, !transaction.entries.isEmpty {
                    for entry in transaction.entries {
                        sequence = try entry.serializedBytes().withUnsafeBytes { try store.append($0) }
                    }
                }
                if let thrown { throw thrown }
                return Commit(value: value!, sequence: sequence)
            }
        }
    }

    /// Calls back once `commit` is durable (at once when it logged nothing), or with the
    /// storage error (the store then refuses writes until restart).
    public func whenDurable<R>(_ commit: Commit<R>, _ callback: @escaping @Sendable (Result<R, StorageError>) -> Void)
    where R: Sendable {
        guard let store, let sequence = commit.sequence else {
            return callback(.success(commit.value))
        }
        let value = commit.value
        store.whenDurable(sequence) { result in callback(result.map { value }) }
    }

    /// Writes and waits until durable.
    public func writeDurably<R: Sendable>(_ body: (inout StateTransaction<State>) throws -> R) async throws -> R {
        let commit = try write(body)
        if let store, let sequence = commit.sequence {
            try await store.waitDurable(sequence)
        }
        return commit.value
    }

    /// Whether the snapshot policy says a snapshot is due.
    public var snapshotDue: Bool { store?.snapshotDue ?? false }

    /// Writes a snapshot of the current state, from a copy taken under the lock, while writes
    /// continue. Returns nil when memory-only or nothing changed since the last snapshot.
    @discardableResult
    public func snapshot() throws -> SnapshotReport? {
        guard let store else { return nil }
        let (copy, sequence) = state.withLock { state in (state, store.lastSequence) }
        guard sequence > store.snapshotSequence else { return nil }
        return try store.writeSnapshot(coveringSequence: sequence) { writer in
            try withUnsafeMutablePointer(to: &writer) { pointer in
                var sink = SnapshotSink(writer: pointer)
                try copy.writeSnapshot(to: &sink)
            }
        }
    }

    /// Flushes and closes the log; later writes fail.
    public func close() {
        store?.close()
    }
}

/// What a write returned, and the log position that must be durable before answering.
public struct Commit<Value> {
    /// What the write's body returned.
    public let value: Value
    /// The last log sequence the write appended, or nil when it changed nothing.
    public let sequence: UInt64?
}

extension Commit: Sendable where Value: Sendable {}

/// The changes one ``StateStore/write(_:)`` makes.
public struct StateTransaction<State: PersistentState>: ~Copyable {
    private let pointer: UnsafeMutablePointer<State>
    fileprivate var entries: [State.LogEntry] = []

    fileprivate init(_ pointer: UnsafeMutablePointer<State>) {
        self.pointer = pointer
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

    /// Applies `entry` to the state and logs it, as completed by
    /// ``PersistentState/apply(completing:)``. Throws what `apply` throws, changing nothing.
    public mutating func log(_ entry: State.LogEntry) throws {
        var entry = entry
        try pointer.pointee.apply(completing: &entry)
        entries.append(entry)
    }
}
