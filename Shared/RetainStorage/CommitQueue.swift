import Synchronization

/// The state shared by appenders and the committer thread: the append buffer, the sequence
/// counters, the waiting durability callbacks and the store's phase, all behind one short lock.
///
/// Appenders copy a framed record into the buffer under the lock. The committer swaps the buffer
/// for an empty one under the lock, writes and syncs outside it, then completes the callbacks.
package final class CommitQueue: Sendable {
    /// Where the store is in its life.
    enum Phase {
        /// Opened; ``DurableStore/recover(snapshot:replay:)`` has not run yet.
        case awaitingRecovery
        /// ``DurableStore/recover(snapshot:replay:)`` is running.
        case recovering
        /// Accepting appends.
        case running
        /// A write or sync failed: nothing more is written or acknowledged until the store is
        /// recovered again. `discarded` tells whether the unacknowledged records were cut off
        /// the log (so they are known not to be written).
        case failed(StorageError, discarded: Bool)
        /// Closed by the owner.
        case closed
    }

    /// What the committer should do next.
    enum Work {
        /// Write the swapped-out buffer, which holds sequences `first...last`.
        case batch(first: UInt64, last: UInt64)
        /// Nothing buffered: sleep until woken.
        case idle
        /// Fewer records buffered than the writers just acknowledged: sleep until they append
        /// again (an appender wakes the committer once `minimumRecords` are buffered) or until
        /// `deadline` (monotonic nanoseconds), whichever comes first.
        case linger(deadline: UInt64)
        /// Closing and nothing left: finish.
        case exit
    }

    struct State {
        var phase = Phase.awaitingRecovery
        var buffer = RecordBuffer(capacity: 1 << 20)
        var nextSequence: UInt64 = 1
        var bufferedFirstSequence: UInt64 = 1
        /// Highest sequence that is durable per the durability mode.
        var durableThrough: UInt64 = 0
        var callbacks = PendingCallbacks()
        /// Whether the committer is running callbacks; later ones must queue behind them.
        var callbacksRunning = false
        var committerIdle = false
        /// While the committer lingers: wake it once this many records are buffered (0: at once).
        var lingerTarget = 0
        var closeRequested = false
        /// Appends running under ``appendingTogether`` (the committer leaves the buffer alone).
        var together = 0
        var statistics = CommitStatistics()
    }

    private let state = Mutex(State())
    /// A copy of `State.durableThrough` that readers load without taking the lock: every read
    /// of a service compares its state's sequence with it.
    private let durableMirror = Atomic<UInt64>(0)
    /// Bytes in the append buffer, loaded without the lock by writers deciding to back off.
    private let bufferedMirror = Atomic<Int>(0)

    /// Bytes appended and not yet taken by the committer.
    var bufferedBytes: Int { bufferedMirror.load(ordering: .relaxed) }
    /// Wakes the committer when the buffer stops being empty or the store closes.
    let wakeup = WakeupSignal()
    private let maxRecordBytes: Int

    init(maxRecordBytes: Int) {
        self.maxRecordBytes = maxRecordBytes
    }

    // MARK: Appender side

    /// Frames `payload` into the buffer and returns its sequence.
    func append(_ payload: UnsafeRawBufferPointer) throws(StorageError) -> UInt64 {
        var crc = CRC32C()
        crc.update(payload)
        return try append(payload, payloadCRC: crc)
    }

    /// Frames `payload`, whose CRC32C the caller already computed, and returns its sequence.
    func append(_ payload: UnsafeRawBufferPointer, payloadCRC crc: CRC32C) throws(StorageError) -> UInt64 {
        guard payload.count <= maxRecordBytes else {
            throw .recordTooLarge(size: payload.count, limit: maxRecordBytes)
        }
        let (sequence, wake) = try state.withLock { (state) throws(StorageError) -> (UInt64, Bool) in
            guard case .running = state.phase, !state.closeRequested else {
                throw Self.unavailable(state.phase, closing: state.closeRequested)
            }
            let sequence = state.nextSequence
            state.nextSequence += 1
            state.buffer.appendRecord(payload, payloadCRC: crc, sequence: sequence)
            bufferedMirror.store(state.buffer.count, ordering: .relaxed)
            let wake = state.committerIdle && state.together == 0 && state.buffer.records >= state.lingerTarget
            if wake { state.committerIdle = false }
            return (sequence, wake)
        }
        if wake { wakeup.signal() }
        return sequence
    }

    /// Starts appends the committer takes together (see ``DurableStore/appendingTogether(_:)``).
    func beginAppendingTogether() {
        state.withLock { $0.together += 1 }
    }

    /// Ends them: the committer may take the buffer again, and is woken if it waits for it.
    func endAppendingTogether() {
        let wake = state.withLock { state -> Bool in
            state.together -= 1
            let wake = state.together == 0 && state.committerIdle && !state.buffer.isEmpty
            if wake { state.committerIdle = false }
            return wake
        }
        if wake { wakeup.signal() }
    }

    /// Runs `callback` once `sequence` is durable, or with the error.
    ///
    /// If it already is durable and the committer is not busy running earlier callbacks, it runs
    /// at once on the calling thread; otherwise the committer runs it, in sequence order.
    func whenDurable(_ sequence: UInt64, _ callback: @escaping PendingCallbacks.Callback) {
        let immediate = state.withLock { state -> Result<Void, StorageError>? in
            if sequence <= state.durableThrough {
                guard state.callbacksRunning else { return .success(()) }
                state.callbacks.insert(sequence, callback)
                return nil
            }
            switch state.phase {
            case .running:
                guard sequence < state.nextSequence else {
                    return .failure(
                        .invalidOperation(
                            "sequence \(sequence) has not been appended (last is \(state.nextSequence - 1))"))
                }
                state.callbacks.insert(sequence, callback)
                return nil
            case .awaitingRecovery, .recovering:
                return .failure(.invalidOperation("recover() must run before appends"))
            case .failed, .closed:
                return .failure(Self.unavailable(state.phase, closing: state.closeRequested))
            }
        }
        if let immediate { callback(immediate) }
    }

    /// Blocks the calling thread until `sequence` is durable. Never call it from a callback.
    func waitDurable(_ sequence: UInt64) throws(StorageError) {
        let signal = WakeupSignal()
        let outcome = Mutex<Result<Void, StorageError>?>(nil)
        whenDurable(sequence) { result in
            outcome.withLock { $0 = result }
            signal.signal()
        }
        signal.wait()
        let result = outcome.withLock { $0 } ?? .failure(.unavailable(reason: "durability wait ended without a result"))
        try result.get()
    }

    /// The last sequence handed out.
    var lastSequence: UInt64 { state.withLock { $0.nextSequence - 1 } }

    /// The highest durable sequence (a lock-free load).
    var durableSequence: UInt64 { durableMirror.load(ordering: .acquiring) }

    /// Whether the last failure cut the unacknowledged records off the log; nil while not failed.
    var failureDiscardedUnacknowledged: Bool? {
        state.withLock { state in
            if case .failed(_, let discarded) = state.phase { return discarded }
            return nil
        }
    }

    /// Counters so far.
    var statistics: CommitStatistics { state.withLock { $0.statistics } }

    /// The error the store would give an appender now, if any.
    var failure: StorageError? {
        state.withLock { state in
            if case .running = state.phase, !state.closeRequested { return nil }
            return Self.unavailable(state.phase, closing: state.closeRequested)
        }
    }

    private static func unavailable(_ phase: Phase, closing: Bool) -> StorageError {
        switch phase {
        case .awaitingRecovery, .recovering:
            return .invalidOperation("recover() must run before appends")
        case .running:
            return .unavailable(reason: closing ? "the store is closing" : "the store is running")
        case .failed(let error, _):
            return .unavailable(reason: "the store stopped writing after an I/O failure (\(error))")
        case .closed:
            return .unavailable(reason: "the store is closed")
        }
    }

    // MARK: Lifecycle

    /// Moves from awaiting recovery to recovering; `false` if recovery already ran or the store closed.
    func beginRecovery() -> Bool {
        state.withLock { state in
            guard case .awaitingRecovery = state.phase, !state.closeRequested else { return false }
            state.phase = .recovering
            return true
        }
    }

    /// Starts accepting appends after recovery: the next sequence is `lastSequence + 1`.
    func start(lastSequence: UInt64) {
        state.withLock { state in
            state.phase = .running
            state.nextSequence = lastSequence + 1
            state.bufferedFirstSequence = lastSequence + 1
            state.durableThrough = lastSequence
            state.closeRequested = false
        }
        durableMirror.store(lastSequence, ordering: .releasing)
    }

    /// After a failure (or to re-read the directory), goes back to awaiting recovery: the buffer
    /// is emptied and recovery may run again on the same directory, under the same lock.
    /// The committer thread must have exited.
    func resetForRecovery() {
        let waiting = state.withLock { state -> [(sequence: UInt64, callback: PendingCallbacks.Callback)] in
            state.phase = .awaitingRecovery
            state.buffer.reset(keepingCapacity: 1 << 20)
            state.callbacksRunning = false
            state.committerIdle = false
            state.lingerTarget = 0
            state.closeRequested = false
            return state.callbacks.popAll()
        }
        for entry in waiting { entry.callback(.failure(.unavailable(reason: "the store is being recovered"))) }
    }

    /// Whether the store is in the failed state.
    var hasFailed: Bool {
        state.withLock { state in
            if case .failed = state.phase { return true }
            return false
        }
    }

    /// Refuses further appends and wakes the committer to drain. Returns whether it was running.
    func requestClose() -> Bool {
        let running = state.withLock { state -> Bool in
            state.closeRequested = true
            if case .running = state.phase { return true }
            return false
        }
        wakeup.signal()
        return running
    }

    /// Marks the store closed and fails whatever still waits.
    func markClosed() {
        let waiting = state.withLock { state -> [(sequence: UInt64, callback: PendingCallbacks.Callback)] in
            if case .failed = state.phase {} else { state.phase = .closed }
            return state.callbacks.popAll()
        }
        for entry in waiting { entry.callback(.failure(.unavailable(reason: "the store is closed"))) }
    }

    // MARK: Committer side

    /// Swaps a non-empty buffer for `spare`, or says there is nothing to do yet.
    ///
    /// With `linger`, a buffer holding fewer than `minimumRecords` is left to fill until the
    /// deadline: the writers whose records were just acknowledged usually append again within
    /// microseconds, and waiting for them puts them in this batch instead of the one after it,
    /// so closed-loop writers share one sync instead of alternating between two.
    func takeWork(swapping spare: inout RecordBuffer, linger: (minimumRecords: Int, deadline: UInt64)?) -> Work {
        state.withLock { state in
            state.lingerTarget = 0
            state.committerIdle = false
            if let linger, !state.closeRequested, state.buffer.records < linger.minimumRecords,
                monotonicNanoseconds() < linger.deadline
            {
                state.lingerTarget = linger.minimumRecords
                state.committerIdle = true
                return .linger(deadline: linger.deadline)
            }
            if state.together > 0, !state.closeRequested {
                // Appends that go together are still coming: their end wakes the committer.
                state.committerIdle = true
                return .idle
            }
            if !state.buffer.isEmpty {
                swap(&state.buffer, &spare)
                bufferedMirror.store(0, ordering: .relaxed)
                let first = state.bufferedFirstSequence
                let last = state.nextSequence - 1
                state.bufferedFirstSequence = state.nextSequence
                return .batch(first: first, last: last)
            }
            if state.closeRequested { return .exit }
            state.committerIdle = true
            return .idle
        }
    }

    /// Records that everything through `sequence` is durable and runs the callbacks it releases,
    /// including any registered for durable sequences while they ran, so all run in order.
    /// Returns how many callbacks ran.
    @discardableResult
    func complete(through sequence: UInt64, records: Int, bytes: Int, synced: Bool) -> Int {
        var ready = state.withLock { state in
            state.durableThrough = sequence
            durableMirror.store(sequence, ordering: .releasing)
            state.statistics.batches += 1
            state.statistics.records += UInt64(records)
            state.statistics.bytes += UInt64(bytes)
            if synced { state.statistics.syncs += 1 }
            let ready = state.callbacks.popAll(through: sequence)
            state.callbacksRunning = !ready.isEmpty
            return ready
        }
        var completed = 0
        while !ready.isEmpty {
            for entry in ready { entry.callback(.success(())) }
            completed += ready.count
            ready = state.withLock { state in
                let ready = state.callbacks.popAll(through: state.durableThrough)
                state.callbacksRunning = !ready.isEmpty
                return ready
            }
        }
        return completed
    }

    /// Counts a sync made outside a batch (interval mode).
    func countSync() {
        state.withLock { $0.statistics.syncs += 1 }
    }

    /// Puts the store in the failed state and fails every waiting callback.
    func fail(_ error: StorageError, discarded: Bool) {
        let waiting = state.withLock { state -> [(sequence: UInt64, callback: PendingCallbacks.Callback)] in
            state.phase = .failed(error, discarded: discarded)
            state.callbacksRunning = false
            state.buffer.reset(keepingCapacity: 1 << 20)
            return state.callbacks.popAll()
        }
        let failure = Self.unavailable(.failed(error, discarded: discarded), closing: false)
        for entry in waiting { entry.callback(.failure(failure)) }
    }
}
