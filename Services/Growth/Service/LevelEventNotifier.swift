public import ServiceLifecycle
import Synchronization

/// Tells WatchLevelChanges streams when level-change events become durable, in process: writes
/// advance the durable head once their log entry is durable, and streams wait for the head to
/// move past what they sent. On graceful shutdown it closes, ending every stream.
public final class LevelEventNotifier: Service, Sendable {
    /// How a wait ended.
    public enum WaitResult: Sendable, Equatable {
        /// The durable head moved past the position waited on.
        case advanced
        /// Nothing happened within the timeout.
        case timedOut
        /// The server is shutting down.
        case closed
        /// The waiting task was cancelled.
        case cancelled
    }

    private struct State {
        var head: UInt64 = 0
        var closed = false
        var nextWaiter: UInt64 = 0
        var waiters: [UInt64: (position: UInt64, continuation: CheckedContinuation<WaitResult, Never>)] = [:]
    }

    private let state = Mutex(State())

    /// A notifier whose head is 0 until ``advance(to:)``.
    public init() {}

    /// Position of the newest durable event.
    public var head: UInt64 { state.withLock { $0.head } }

    /// Whether ``close()`` was called.
    public var isClosed: Bool { state.withLock { $0.closed } }

    /// Moves the durable head to `position` (never back) and wakes the streams waiting below it.
    public func advance(to position: UInt64) {
        let woken = state.withLock { state -> [CheckedContinuation<WaitResult, Never>] in
            guard position > state.head else { return [] }
            state.head = position
            var woken: [CheckedContinuation<WaitResult, Never>] = []
            for (id, waiter) in state.waiters where waiter.position < position {
                woken.append(waiter.continuation)
                state.waiters[id] = nil
            }
            return woken
        }
        for continuation in woken { continuation.resume(returning: .advanced) }
    }

    /// Ends every wait, now and later, with ``WaitResult/closed``.
    public func close() {
        let woken = state.withLock { state in
            state.closed = true
            defer { state.waiters = [:] }
            return state.waiters.values.map(\.continuation)
        }
        for continuation in woken { continuation.resume(returning: .closed) }
    }

    /// Waits until the head is beyond `position`, the timeout passes, the notifier closes or
    /// the task is cancelled.
    public func wait(beyond position: UInt64, timeout: Duration) async -> WaitResult {
        await withTaskGroup(of: WaitResult.self) { group in
            group.addTask { await self.wait(beyond: position) }
            group.addTask {
                do {
                    try await Task.sleep(for: timeout)
                    return .timedOut
                } catch {
                    return .cancelled
                }
            }
            let first = await group.next() ?? .cancelled
            group.cancelAll()
            return first
        }
    }

    private func wait(beyond position: UInt64) async -> WaitResult {
        let id = state.withLock { state in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<WaitResult, Never>) in
                let immediate: WaitResult? = state.withLock { state in
                    if state.closed { return .closed }
                    if state.head > position { return .advanced }
                    if Task.isCancelled { return .cancelled }
                    state.waiters[id] = (position, continuation)
                    return nil
                }
                if let immediate { continuation.resume(returning: immediate) }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.continuation.resume(returning: .cancelled)
        }
    }

    /// Runs until graceful shutdown, then closes so that open streams end and the server can
    /// drain.
    public func run() async throws {
        try? await gracefulShutdown()
        close()
    }
}
