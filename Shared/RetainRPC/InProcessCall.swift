public import NIOCore
import RetainProto
public import RetainWire
import Synchronization

/// One call handed to a server inside the process (``InProcessCalls/start(path:request:options:)``):
/// its handler answers through a ``ServerResponder`` as it answers a call from a connection, and
/// the caller reads the answers here as they are (encoded messages, never framed or copied),
/// then the status.
///
/// The call ends once: with its handler's last answer or status, when its deadline passes
/// (DEADLINE_EXCEEDED), or when the caller cancels it (CANCELLED); either of the last two runs
/// the handler's cancel handler, as a connection's CANCEL frame or deadline does. Answers after
/// the end are dropped.
public final class InProcessCall: Sendable {
    /// Answers a producer may queue ahead of the reader before ``ServerResponder/sendWhenReady(_:)`` waits.
    static let readAhead = 16

    private struct State {
        var answers = CircularBuffer<ByteBuffer>()
        /// Set once the call ended.
        var status: Retain_V1_CallStatus?
        /// The reader waiting for an answer or the end.
        var reader: CheckedContinuation<Void, Never>?
        /// Producers waiting for the reader to catch up.
        var producers: [UnsafeContinuation<Void, any Error>] = []
        var onCancel: (@Sendable () -> Void)?
        var deadlineTask: Scheduled<Void>?
    }

    private let state: Mutex<State>
    /// The method's metrics, told how the call ended; nil for a call refused before it started.
    private let metrics: MethodMetrics?
    private let started: NIODeadline

    init(metrics: MethodMetrics, started: NIODeadline) {
        self.metrics = metrics
        self.started = started
        state = Mutex(State())
    }

    /// A call refused before any handler ran, with `error`'s status.
    init(refused error: any Error) {
        metrics = nil
        started = .now()
        state = Mutex(State(status: ServerResponder.status(for: error)))
    }

    // MARK: Reading

    /// The next answer, or nil once the call ended with OK. Throws the call's status as an
    /// ``RPCError`` when it ended otherwise. Cancelling the task that waits cancels the call.
    public func next() async throws(RPCError) -> ByteBuffer? {
        while true {
            let (answer, status, producers) = state.withLock {
                state -> (ByteBuffer?, Retain_V1_CallStatus?, [UnsafeContinuation<Void, any Error>]) in
                guard let answer = state.answers.popFirst() else { return (nil, state.status, []) }
                guard state.answers.count < Self.readAhead else { return (answer, nil, []) }
                defer { state.producers = [] }
                return (answer, nil, state.producers)
            }
            for producer in producers { producer.resume() }
            if let answer { return answer }
            if let status {
                guard status.code != 0 else { return nil }
                throw RPCError(RPCStatusCode(rawValue: status.code), status.message, details: status.details)
            }
            await withTaskCancellationHandler {
                await withCheckedContinuation { (reader: CheckedContinuation<Void, Never>) in
                    let waits = state.withLock { state in
                        guard state.answers.isEmpty, state.status == nil else { return false }
                        state.reader = reader
                        return true
                    }
                    if !waits { reader.resume() }
                }
            } onCancel: {
                self.cancel()
            }
        }
    }

    /// The one answer of a unary call. Throws the call's status when it failed, and INTERNAL
    /// when it ended with OK but no answer.
    public func answer() async throws(RPCError) -> ByteBuffer {
        guard let answer = try await next() else { throw RPCError(.internal, "server ended a unary call without an answer") }
        return answer
    }

    /// Ends the call with CANCELLED, as a connection's CANCEL frame does: its cancel handler runs.
    public func cancel() {
        end(Retain_V1_CallStatus(code: RPCStatusCode.cancelled.rawValue, message: "cancelled"), code: .cancelled, cancels: true)
    }

    // MARK: Answering (through ServerResponder)

    /// Queues one answer; `ends`: it is the last (a unary answer), and the call ends with OK.
    func deliver(_ message: ByteBuffer, ends: Bool) {
        let taken = state.withLock { state -> Taken? in
            guard state.status == nil else { return nil }
            state.answers.append(message)
            if ends { return Self.ending(&state, with: Retain_V1_CallStatus(code: 0), cancels: false) }
            defer { state.reader = nil }
            return Taken(reader: state.reader)
        }
        guard let taken else { return }
        taken.run()
        if ends { metrics?.finished(.ok, since: started) }
    }

    /// Queues one answer and waits while the reader is ``readAhead`` answers behind; throws
    /// CancellationError once the call has ended.
    func sendWhenReady(_ message: ByteBuffer) async throws {
        let queued = state.withLock { state -> (Bool, CheckedContinuation<Void, Never>?) in
            guard state.status == nil else { return (false, nil) }
            state.answers.append(message)
            defer { state.reader = nil }
            return (true, state.reader)
        }
        guard queued.0 else { throw CancellationError() }
        queued.1?.resume()
        try await withUnsafeThrowingContinuation { (producer: UnsafeContinuation<Void, any Error>) in
            let outcome: Result<Void, any Error>? = state.withLock { state in
                if state.status != nil { return .failure(CancellationError()) }
                if state.answers.count < Self.readAhead { return .success(()) }
                state.producers.append(producer)
                return nil
            }
            if let outcome { producer.resume(with: outcome) }
        }
    }

    /// Ends the call with `status` (the handler's last word).
    func finish(_ status: Retain_V1_CallStatus) {
        end(status, code: RPCStatusCode(rawValue: status.code), cancels: false)
    }

    /// Runs `handler` once if the call is cancelled or its deadline passes before it ends; at
    /// once when the call has ended already.
    func onCancel(_ handler: @escaping @Sendable () -> Void) {
        let ended = state.withLock { state in
            guard state.status == nil else { return true }
            state.onCancel = handler
            return false
        }
        if ended { handler() }
    }

    /// Ends the call with DEADLINE_EXCEEDED when `deadline` passes first.
    func setDeadline(_ deadline: NIODeadline, on eventLoop: any EventLoop) {
        let task = eventLoop.scheduleTask(deadline: deadline) { [self] in
            end(
                Retain_V1_CallStatus(code: RPCStatusCode.deadlineExceeded.rawValue, message: "deadline exceeded"),
                code: .deadlineExceeded, cancels: true)
        }
        let ended = state.withLock { state in
            guard state.status == nil else { return true }
            state.deadlineTask = task
            return false
        }
        if ended { task.cancel() }
    }

    // MARK: Ending

    /// What is to be woken or stopped once the lock is released.
    private struct Taken {
        var reader: CheckedContinuation<Void, Never>?
        var producers: [UnsafeContinuation<Void, any Error>] = []
        var deadlineTask: Scheduled<Void>?
        var onCancel: (@Sendable () -> Void)?

        func run() {
            deadlineTask?.cancel()
            onCancel?()
            for producer in producers { producer.resume(throwing: CancellationError()) }
            reader?.resume()
        }
    }

    /// Marks the call ended with `status` and takes what must be woken; `cancels`: the call was
    /// cut short (its cancel handler runs).
    private static func ending(_ state: inout State, with status: Retain_V1_CallStatus, cancels: Bool) -> Taken {
        state.status = status
        defer {
            state.reader = nil
            state.producers = []
            state.deadlineTask = nil
            state.onCancel = nil
        }
        return Taken(
            reader: state.reader, producers: state.producers, deadlineTask: state.deadlineTask,
            onCancel: cancels ? state.onCancel : nil)
    }

    private func end(_ status: Retain_V1_CallStatus, code: RPCStatusCode, cancels: Bool) {
        let taken = state.withLock { state -> Taken? in
            guard state.status == nil else { return nil }
            return Self.ending(&state, with: status, cancels: cancels)
        }
        guard let taken else { return }
        taken.run()
        metrics?.finished(code, since: started)
    }
}
