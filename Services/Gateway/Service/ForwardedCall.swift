import RetainRPC
import Synchronization

/// One forwarded unary call as its cancellation sees it: the attempt in flight on a backend
/// connection, or the task that goes on after it. Cancelling abandons whichever it is now; one
/// started after the cancellation is abandoned as it starts.
final class ForwardedCall: Sendable {
    private enum State {
        case starting
        case attempt(RPCClient.StartedCall)
        case task(Task<Void, Never>)
        case cancelled
    }

    private let state = Mutex(State.starting)

    /// Whether the caller cancelled the call (or its deadline passed).
    var isCancelled: Bool {
        state.withLock { state in
            if case .cancelled = state { return true }
            return false
        }
    }

    /// The first attempt started; it is abandoned at once if the call was cancelled already.
    /// A task that took over meanwhile (the attempt failed before this) stays.
    func attempt(_ started: RPCClient.StartedCall) {
        let cancelled = state.withLock { state in
            switch state {
            case .starting:
                state = .attempt(started)
                return false
            case .cancelled: return true
            case .attempt, .task: return false
            }
        }
        if cancelled { started.cancel() }
    }

    /// The call goes on in `task`; it is cancelled at once if the call was cancelled already.
    func goOn(_ task: Task<Void, Never>) {
        let cancelled = state.withLock { state in
            if case .cancelled = state { return true }
            state = .task(task)
            return false
        }
        if cancelled { task.cancel() }
    }

    /// Abandons the attempt in flight or cancels the task.
    func cancel() {
        let previous = state.withLock { state in
            let previous = state
            state = .cancelled
            return previous
        }
        switch previous {
        case .attempt(let started): started.cancel()
        case .task(let task): task.cancel()
        case .starting, .cancelled: break
        }
    }
}
