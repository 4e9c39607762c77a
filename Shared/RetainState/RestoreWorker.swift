import RetainStorage

/// Runs one piece of a restore on a thread of its own and hands its result back on
/// ``join()``: a state sorts and indexes what it has read on a second core while the restoring
/// thread reads on (Growth at a million users: the leaderboards' sorts and the user index
/// while the retained events are read). A plain thread, not a task: the work is CPU-bound
/// and must not hold one of the concurrency runtime's few cooperative threads; recovery runs
/// before the service serves anything.
///
/// When no thread can be started, the work runs on the caller's thread, in ``join()``.
package final class RestoreWorker<Result: Sendable>: @unchecked Sendable {
    /// Set by the worker thread before it ends; read only after `pthread_join` (which orders
    /// the accesses).
    private var result: Result?
    private var thread: CommitterThread?
    private var inline: (() -> Result)?

    /// Starts `work` on a new thread with `input`, which the work receives as the only
    /// reference (a large array it sorts in place is not copied).
    package init<Input: Sendable>(_ input: consuming Input, _ work: @escaping @Sendable (consuming Input) -> Result) {
        let handOff = HandOff(input)
        do {
            thread = try CommitterThread { [unowned(unsafe) self] in self.result = work(handOff.take()) }
        } catch {
            inline = { work(handOff.take()) }
        }
    }

    /// Waits for the work and returns its result (the same result again on a later call).
    package func join() -> Result {
        if let thread {
            thread.join()
            self.thread = nil
        }
        if let inline {
            self.inline = nil
            result = inline()
        }
        return result!
    }

    deinit {
        // A restore that failed part way still waits for its worker, which writes into `self`.
        thread?.join()
    }
}

/// A value handed to another thread, taken out exactly once.
private final class HandOff<Value: Sendable>: @unchecked Sendable {
    private var value: Value?

    init(_ value: consuming Value) {
        self.value = value
    }

    /// The value; the box no longer holds it.
    func take() -> Value {
        var taken: Value?
        swap(&taken, &value)
        return taken!
    }
}
