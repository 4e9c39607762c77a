import RetainStorage
import Synchronization

/// Runs one piece of a restore on a thread of its own and hands its result back on
/// ``join()``: a state sorts and indexes what it has read on a second core while the restoring
/// thread reads on (Growth at a million users: the leaderboards' sorts and the user index
/// while the retained events are read). A plain thread, not a task: the work is CPU-bound
/// and must not hold one of the concurrency runtime's few cooperative threads; recovery runs
/// before the service serves anything. Dropping a worker that was not joined waits for it.
///
/// When no thread can be started, the work runs on the caller's thread, in ``join()``.
package final class RestoreWorker<Result: Sendable>: Sendable {
    /// Set by the worker thread before it ends; read only after `pthread_join`. The thread
    /// holds this box, not the worker, so that dropping the worker joins it.
    private let box = ResultBox<Result>()
    private let thread: Mutex<CommitterThread?>
    private let inline: Mutex<(@Sendable () -> Result)?>

    /// Starts `work` on a new thread with `input`, which the work receives as the only
    /// reference (a large array it sorts in place is not copied).
    package init<Input: Sendable>(_ input: consuming Input, _ work: @escaping @Sendable (consuming Input) -> Result) {
        let handOff = HandOff(input)
        let box = self.box
        if let started = try? CommitterThread({ box.set(work(handOff.take())) }) {
            thread = Mutex(started)
            inline = Mutex(nil)
        } else {
            thread = Mutex(nil)
            inline = Mutex({ work(handOff.take()) })
        }
    }

    /// Waits for the work and returns its result (the same result again on a later call).
    package func join() -> Result {
        thread.withLock { thread in
            thread?.join()
            thread = nil
        }
        if let work = inline.withLock({ $0.take() }) { box.set(work()) }
        return box.get()
    }

    deinit {
        thread.withLock { $0?.join() }
    }
}

/// A result written by one thread and read by another after a join (which orders the two).
private final class ResultBox<Value: Sendable>: @unchecked Sendable {
    private var value: Value?

    func set(_ value: Value) {
        self.value = value
    }

    func get() -> Value {
        value!
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
