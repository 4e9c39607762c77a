import NIOCore
import RetainProto
import RetainWire

/// The calls of one connection that have not answered yet (deferred calls, streams, inline
/// answers held by a gate): their deadlines, cancel handlers and metrics, by request id.
///
/// Each call gets a generation number, so that a late answer of an ended call can never be
/// taken for an answer of a new call that reuses its request id. A call whose caller asked for
/// flow control has a ``StreamWindow``; producers that wait for room (``ServerResponder/sendWhenReady(_:)``)
/// wait here.
struct LiveCalls {
    /// A call that has not answered yet.
    struct Call {
        /// Tells this call from a later one that reuses its request id.
        let generation: UInt64
        /// When the call ends as DEADLINE_EXCEEDED; nil without a deadline.
        var deadline: NIODeadline?
        var onCancel: (@Sendable () -> Void)?
        let metrics: MethodMetrics
        let started: NIODeadline
        /// The send window, when the caller asked for flow control.
        var window: StreamWindow?
        /// The status of the final frame, once offered to the window.
        var endStatus: RPCStatusCode?
        /// Producers waiting until the call may take another answer.
        var waiters: [UnsafeContinuation<Void, any Error>] = []

        /// Runs its cancel handler and fails its waiters: the call ended without answering.
        func cancel() {
            onCancel?()
            for waiter in waiters { waiter.resume(throwing: CancellationError()) }
        }
    }

    private var calls: [UInt32: Call] = [:]
    /// Bytes of answers held by every call's window, waiting for credit.
    private(set) var heldBytes = 0
    private var nextGeneration: UInt64 = 0
    /// Calls allowed at once.
    let maximum: Int

    init(maximum: Int) {
        self.maximum = maximum
    }

    var isEmpty: Bool { calls.isEmpty }
    var count: Int { calls.count }

    /// Whether a call with request id `id` is live.
    func contains(_ id: UInt32) -> Bool { calls[id] != nil }

    /// Registers call `id`, flow-controlled when `window` is above 0; returns its generation,
    /// or nil when `maximum` calls are live.
    mutating func start(_ id: UInt32, metrics: MethodMetrics, started: NIODeadline, window: Int = 0) -> UInt64? {
        guard calls.count < maximum else { return nil }
        nextGeneration += 1
        calls[id] = Call(
            generation: nextGeneration, metrics: metrics, started: started,
            window: window > 0 ? StreamWindow(bytes: window) : nil)
        return nextGeneration
    }

    /// Sets the time at which call `id` ends as DEADLINE_EXCEEDED.
    mutating func setDeadline(_ id: UInt32, _ deadline: NIODeadline) {
        calls[id]?.deadline = deadline
    }

    /// The calls whose deadline is `now` or earlier, and the earliest deadline of the others.
    func deadlines(passedAt now: NIODeadline) -> DeadlineTimer.Sweep {
        var sweep = DeadlineTimer.Sweep(now: now)
        for (id, call) in calls { sweep.add(id, call.deadline) }
        return sweep
    }

    /// Whether call `id` of `generation` is live.
    func isLive(_ id: UInt32, generation: UInt64) -> Bool {
        calls[id]?.generation == generation
    }

    /// Removes call `id` if it is of `generation` and fails its waiters.
    mutating func end(_ id: UInt32, generation: UInt64) -> Call? {
        guard let call = calls[id], call.generation == generation else { return nil }
        forget(id)
        for waiter in call.waiters { waiter.resume(throwing: CancellationError()) }
        return call
    }

    // MARK: Flow control

    /// Whether call `id` has a send window.
    func isFlowControlled(_ id: UInt32) -> Bool {
        calls[id]?.window != nil
    }

    /// Offers a frame of flow-controlled call `id` to its window (`endStatus`: the final frame
    /// and its status); returns it when it may be written now.
    mutating func offer(_ frame: ByteBuffer, to id: UInt32, endStatus: RPCStatusCode?) -> ByteBuffer? {
        // Nothing follows a call's final frame.
        guard calls[id]?.window?.ended == false else { return nil }
        if let endStatus { calls[id]?.endStatus = endStatus }
        let before = calls[id]?.window?.heldBytes ?? 0
        defer { heldBytes += (calls[id]?.window?.heldBytes ?? 0) - before }
        return calls[id]?.window?.offer(frame, ends: endStatus != nil)
    }

    /// The flow-controlled calls that can send nothing more until the caller grants credit.
    func outOfCredit() -> [UInt32] {
        calls.compactMap { id, call in
            guard let window = call.window, !window.isFinished, !window.isOpen else { return nil }
            return id
        }
    }

    /// Grants call `id` more credit; returns its held frames that may be written now.
    mutating func grant(_ increment: UInt32, to id: UInt32) -> [ByteBuffer] {
        let before = calls[id]?.window?.heldBytes ?? 0
        defer { heldBytes += (calls[id]?.window?.heldBytes ?? 0) - before }
        return calls[id]?.window?.grant(increment) ?? []
    }

    /// Removes flow-controlled call `id` once its final frame has been written.
    mutating func removeIfFinished(_ id: UInt32) -> Call? {
        guard let call = calls[id], call.window?.isFinished == true else { return nil }
        forget(id)
        for waiter in call.waiters { waiter.resume(throwing: CancellationError()) }
        return call
    }

    /// Adds a producer waiting until call `id` may take another answer.
    mutating func addWaiter(_ waiter: UnsafeContinuation<Void, any Error>, to id: UInt32) {
        calls[id]?.waiters.append(waiter)
    }

    /// Takes the waiters of call `id` (of every call when nil) whose window has room.
    mutating func takeReadyWaiters(of id: UInt32?) -> [UnsafeContinuation<Void, any Error>] {
        func take(_ id: UInt32) -> [UnsafeContinuation<Void, any Error>] {
            guard let call = calls[id], !call.waiters.isEmpty, call.window?.isOpen ?? true else { return [] }
            calls[id]!.waiters = []
            return call.waiters
        }
        if let id { return take(id) }
        return Array(calls.keys).flatMap { take($0) }
    }

    /// Removes call `id` whatever its generation.
    mutating func remove(_ id: UInt32) -> Call? {
        guard calls[id] != nil else { return nil }
        return forget(id)
    }

    /// Removes every call.
    mutating func removeAll() -> [Call] {
        defer {
            calls.removeAll()
            heldBytes = 0
        }
        return Array(calls.values)
    }

    /// Removes call `id` and what its window held from ``heldBytes``.
    @discardableResult
    private mutating func forget(_ id: UInt32) -> Call? {
        guard let call = calls.removeValue(forKey: id) else { return nil }
        heldBytes -= call.window?.heldBytes ?? 0
        return call
    }

    /// Sets the handler run if call `id` of `generation` is cancelled; false when that call has
    /// already ended (the caller runs the handler at once).
    mutating func setCancelHandler(_ id: UInt32, generation: UInt64, _ handler: @escaping @Sendable () -> Void) -> Bool {
        guard calls[id]?.generation == generation else { return false }
        calls[id]!.onCancel = handler
        return true
    }
}
