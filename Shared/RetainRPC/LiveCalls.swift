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

    /// By request id: a ``CallTable`` rather than a `Dictionary`, whose SipHash of every id cost
    /// a hundred instructions on each of a call's several lookups.
    private var calls = CallTable<Call>()
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
    func contains(_ id: UInt32) -> Bool { calls.contains(id) }

    /// Registers call `id`, flow-controlled when `window` is above 0; returns its generation,
    /// or nil when `maximum` calls are live.
    mutating func start(_ id: UInt32, metrics: MethodMetrics, started: NIODeadline, window: Int = 0) -> UInt64? {
        guard calls.count < maximum else { return nil }
        nextGeneration += 1
        calls.insert(
            Call(
                generation: nextGeneration, metrics: metrics, started: started,
                window: window > 0 ? StreamWindow(bytes: window) : nil),
            for: id)
        return nextGeneration
    }

    /// Sets the time at which call `id` ends as DEADLINE_EXCEEDED.
    mutating func setDeadline(_ id: UInt32, _ deadline: NIODeadline) {
        calls.update(id) { $0.deadline = deadline }
    }

    /// The calls whose deadline is `now` or earlier, and the earliest deadline of the others.
    func deadlines(passedAt now: NIODeadline) -> DeadlineTimer.Sweep {
        var sweep = DeadlineTimer.Sweep(now: now)
        calls.forEach { id, call in sweep.add(id, call.deadline) }
        return sweep
    }

    /// Whether call `id` of `generation` is live.
    func isLive(_ id: UInt32, generation: UInt64) -> Bool {
        calls.read(id) { $0?.generation } == generation
    }

    /// Removes call `id` if it is of `generation` and fails its waiters.
    mutating func end(_ id: UInt32, generation: UInt64) -> Call? {
        guard isLive(id, generation: generation), let call = forget(id) else { return nil }
        for waiter in call.waiters { waiter.resume(throwing: CancellationError()) }
        return call
    }

    // MARK: Flow control

    /// Whether call `id` has a send window.
    func isFlowControlled(_ id: UInt32) -> Bool {
        calls.read(id) { $0?.window != nil } ?? false
    }

    /// Offers a frame of flow-controlled call `id` to its window (`endStatus`: the final frame
    /// and its status); returns it when it may be written now.
    mutating func offer(_ frame: ByteBuffer, to id: UInt32, endStatus: RPCStatusCode?) -> ByteBuffer? {
        var writable: ByteBuffer?
        var held = 0
        calls.update(id) { call in
            // Nothing follows a call's final frame.
            guard call.window?.ended == false else { return }
            if let endStatus { call.endStatus = endStatus }
            let before = call.window!.heldBytes
            writable = call.window!.offer(frame, ends: endStatus != nil)
            held = call.window!.heldBytes - before
        }
        heldBytes += held
        return writable
    }

    /// The flow-controlled calls that can send nothing more until the caller grants credit.
    func outOfCredit() -> [UInt32] {
        var ids: [UInt32] = []
        calls.forEach { id, call in
            if let window = call.window, !window.isFinished, !window.isOpen { ids.append(id) }
        }
        return ids
    }

    /// Grants call `id` more credit; returns its held frames that may be written now.
    mutating func grant(_ increment: UInt32, to id: UInt32) -> [ByteBuffer] {
        var writable: [ByteBuffer] = []
        var held = 0
        calls.update(id) { call in
            guard call.window != nil else { return }
            let before = call.window!.heldBytes
            writable = call.window!.grant(increment)
            held = call.window!.heldBytes - before
        }
        heldBytes += held
        return writable
    }

    /// Removes flow-controlled call `id` once its final frame has been written.
    mutating func removeIfFinished(_ id: UInt32) -> Call? {
        guard calls.read(id, { $0?.window?.isFinished }) == true, let call = forget(id) else { return nil }
        for waiter in call.waiters { waiter.resume(throwing: CancellationError()) }
        return call
    }

    /// Adds a producer waiting until call `id` may take another answer.
    mutating func addWaiter(_ waiter: UnsafeContinuation<Void, any Error>, to id: UInt32) {
        calls.update(id) { $0.waiters.append(waiter) }
    }

    /// Takes the waiters of call `id` (of every call when nil) whose window has room.
    mutating func takeReadyWaiters(of id: UInt32?) -> [UnsafeContinuation<Void, any Error>] {
        func take(_ id: UInt32) -> [UnsafeContinuation<Void, any Error>] {
            var taken: [UnsafeContinuation<Void, any Error>] = []
            calls.update(id) { call in
                guard !call.waiters.isEmpty, call.window?.isOpen ?? true else { return }
                swap(&taken, &call.waiters)
            }
            return taken
        }
        if let id { return take(id) }
        var ids: [UInt32] = []
        calls.forEach { id, _ in ids.append(id) }
        return ids.flatMap { take($0) }
    }

    /// Removes call `id` whatever its generation.
    mutating func remove(_ id: UInt32) -> Call? {
        forget(id)
    }

    /// Removes every call.
    mutating func removeAll() -> [Call] {
        heldBytes = 0
        return calls.removeAll().map(\.value)
    }

    /// Removes call `id` and what its window held from ``heldBytes``.
    @discardableResult
    private mutating func forget(_ id: UInt32) -> Call? {
        guard let call = calls.remove(id) else { return nil }
        heldBytes -= call.window?.heldBytes ?? 0
        return call
    }

    /// Sets the handler run if call `id` of `generation` is cancelled; false when that call has
    /// already ended (the caller runs the handler at once).
    mutating func setCancelHandler(_ id: UInt32, generation: UInt64, _ handler: @escaping @Sendable () -> Void) -> Bool {
        var set = false
        calls.update(id) { call in
            guard call.generation == generation else { return }
            call.onCancel = handler
            set = true
        }
        return set
    }
}
