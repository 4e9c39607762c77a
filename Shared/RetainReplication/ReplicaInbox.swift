import RetainProto
import Synchronization

/// The batches of one follow stream on their way to the replica's log, in the order the leader
/// sent them. Until the follow task has done the handshake (which may rebuild the log, too slow
/// for an event loop) the inbox queues them for the task; once the task has emptied the queue
/// and gone ``goInline(apply:)``, each batch is applied where it arrives, on the connection's
/// event loop, with no task woken per batch (one hand-off between threads fewer on every
/// commit round: receive, apply and append, then the committer's durable tap acknowledges).
///
/// A batch that fails to apply inline ends the inbox with the error; the task, waiting in
/// ``waitForEnd()``, throws it and follows again from its log's end.
final class ReplicaInbox: Sendable {
    private struct State {
        var queue: [Retain_V1_ReplicationBatch] = []
        var apply: (@Sendable (Retain_V1_ReplicationBatch) throws -> Void)?
        /// How the stream ended (a failed inline apply counts), once it has.
        var end: (any Error)?
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())
    /// Cancels the stream (set once it has started); called when an inline apply fails.
    private let cancel = Mutex<(@Sendable () -> Void)?>(nil)

    /// Remembers how to cancel the stream the batches come from.
    func attach(cancel: @escaping @Sendable () -> Void) {
        self.cancel.withLock { $0 = cancel }
    }

    /// A batch arrived (on the connection's event loop): applied here when the inbox is inline,
    /// queued for the task otherwise. Batches after the end are dropped.
    func received(_ batch: Retain_V1_ReplicationBatch) {
        let (apply, waiter) = state.withLock {
            state -> ((@Sendable (Retain_V1_ReplicationBatch) throws -> Void)?, CheckedContinuation<Void, Never>?) in
            guard state.end == nil else { return (nil, nil) }
            if let apply = state.apply { return (apply, nil) }
            state.queue.append(batch)
            defer { state.waiter = nil }
            return (nil, state.waiter)
        }
        waiter?.resume()
        guard let apply else { return }
        do {
            try apply(batch)
        } catch {
            ended(error)
            cancel.withLock { $0 }?()
        }
    }

    /// The stream ended (nil: the leader ended it, which a follow stream never should).
    func ended(_ error: (any Error)?) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard state.end == nil else { return nil }
            state.end = error ?? ReplicationError.protocolViolation("the leader ended the stream")
            state.apply = nil
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// The next queued batch, waiting for one. Throws how the stream ended once it has and the
    /// queue is empty.
    func next() async throws -> Retain_V1_ReplicationBatch {
        while true {
            let taken = state.withLock { state -> Result<Retain_V1_ReplicationBatch, any Error>? in
                if !state.queue.isEmpty { return .success(state.queue.removeFirst()) }
                if let end = state.end { return .failure(end) }
                return nil
            }
            if let taken { return try taken.get() }
            await waitForChange()
        }
    }

    /// Applies every batch from now on where it arrives, when nothing is queued (returns false
    /// otherwise: the task takes the queued ones first).
    func goInline(apply: @escaping @Sendable (Retain_V1_ReplicationBatch) throws -> Void) -> Bool {
        state.withLock { state in
            guard state.queue.isEmpty, state.end == nil else { return false }
            state.apply = apply
            return true
        }
    }

    /// Waits until the stream ends, then throws how it ended.
    func waitForEnd() async throws -> Never {
        while true {
            if let end = state.withLock({ $0.end }) { throw end }
            await waitForChange()
        }
    }

    private func waitForChange() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let ready = state.withLock { state -> Bool in
                    if !state.queue.isEmpty || state.end != nil { return true }
                    state.waiter = continuation
                    return false
                }
                if ready { continuation.resume() }
            }
        } onCancel: {
            ended(CancellationError())
        }
    }
}
