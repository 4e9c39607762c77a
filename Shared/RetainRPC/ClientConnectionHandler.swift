import Logging
import NIOCore
import RetainProto
import RetainWire

/// The client side of one connection: tracks calls in flight by request id, routes answers to
/// them, answers PINGs, sends keepalive PINGs, and fails calls when the connection goes.
///
/// All state is confined to the connection's event loop.
final class ClientConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// Where a call's answers go.
    ///
    /// The stream's continuation is boxed: `AsyncThrowingStream` comes from a module built for
    /// library evolution, so holding its continuation inline would leave the layout of every
    /// call unknown until run time, and each copy of a call to the runtime's value witnesses.
    enum PendingCall {
        case unary(UnsafeContinuation<ByteBuffer, any Error>)
        case stream(StreamSink)
        /// A unary call started without waiting (``RPCClient/startUnary(_:_:options:completion:)``):
        /// told its answer or error on the connection's event loop.
        case callback(@Sendable (Result<ByteBuffer, any Error>) -> Void)

        /// A stream call's answers going to `continuation`.
        static func streaming(_ continuation: AsyncThrowingStream<ByteBuffer, any Error>.Continuation) -> PendingCall {
            .stream(StreamSink(continuation))
        }
    }

    /// Where a stream call's answers go: an async stream's continuation, or a callback that
    /// handles each answer in place on the connection's event loop
    /// (``RPCClient/startServerStreaming(_:_:options:onAnswer:onEnd:)``).
    final class StreamSink: Sendable {
        private let deliver: @Sendable (ByteBuffer) -> Void
        private let end: @Sendable ((any Error)?) -> Void
        /// Whether an answer counts as consumed once delivered (a callback is done with it when
        /// it returns), granting the server more window without a hand-off.
        let consumesOnDelivery: Bool

        init(_ continuation: AsyncThrowingStream<ByteBuffer, any Error>.Continuation) {
            deliver = { continuation.yield($0) }
            end = { continuation.finish(throwing: $0) }
            consumesOnDelivery = false
        }

        init(onAnswer: @escaping @Sendable (ByteBuffer) -> Void, onEnd: @escaping @Sendable ((any Error)?) -> Void) {
            deliver = onAnswer
            end = onEnd
            consumesOnDelivery = true
        }

        func yield(_ answer: ByteBuffer) { deliver(answer) }

        func finish(throwing error: (any Error)? = nil) { end(error) }
    }

    private struct Call {
        let pending: PendingCall
        /// When the call is given up on as DEADLINE_EXCEEDED; nil without a timeout.
        var deadline: NIODeadline?
        /// The window this call asked for (`CallHeader.window_bytes`), 0 for none.
        var window = 0
        /// Whether the server flow-controls the call (its MESSAGE frames said FLOW_CONTROLLED).
        var flowControlled = false
        /// Wire sizes of the answers handed to the application and not yet consumed, oldest
        /// first. Made with the first flow-controlled answer: a unary call never allocates it
        /// (an empty `CircularBuffer` allocates its storage, a malloc and a free per call).
        var delivered: CircularBuffer<Int>?
        /// Bytes consumed and not yet granted back.
        var ungranted = 0
    }

    private let configuration: RPCClient.Configuration
    private let logger: Logger
    private let onGoAway: @Sendable () -> Void
    // The fields below are touched only on the connection's event loop and never re-entered, so
    // the runtime's exclusivity checks on them (hundreds of instructions per call) buy nothing.
    @exclusivity(unchecked) private var context: ChannelHandlerContext?
    @exclusivity(unchecked) private var calls = CallTable<Call>()
    @exclusivity(unchecked) private var flushScheduled = false
    /// Frames written since the last flush, gathered in one buffer: handing the channel one
    /// buffer per event loop tick rather than one per frame saves the pipeline's write path and
    /// the pending-writes bookkeeping per call (over a thousand instructions).
    @exclusivity(unchecked) private var gathered: ByteBuffer?
    /// The last gathered batch's buffer, to gather the next one in.
    @exclusivity(unchecked) private var spareBatch = SpareBatchBuffer()
    @exclusivity(unchecked) private var heardSinceLastPing = true
    @exclusivity(unchecked) private var pingOutstanding = false
    private var keepaliveTask: RepeatedTask?
    @exclusivity(unchecked) private(set) var goneAway = false
    /// The error that closed the connection (a TLS alert, a reset), told to calls started after.
    @exclusivity(unchecked) private var closeReason: String?
    /// The highest request id the server said it accepted, once it sent GOAWAY.
    @exclusivity(unchecked) private var goAwayLastRequestID: UInt32?
    @exclusivity(unchecked) private var frames: FrameReader
    /// The deadlines of the connection's calls (one timer, not one per call).
    @exclusivity(unchecked) private var deadlineTimer = DeadlineTimer()

    init(configuration: RPCClient.Configuration, logger: Logger, onGoAway: @escaping @Sendable () -> Void) {
        self.configuration = configuration
        self.logger = logger
        self.onGoAway = onGoAway
        self.frames = FrameReader(maximumPayloadSize: configuration.maximumPayloadSize)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if let interval = configuration.keepaliveInterval {
            let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
            keepaliveTask = context.eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { _ in
                bound.value.keepaliveTick()
            }
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        keepaliveTask?.cancel()
        deadlineTimer.cancel()
        self.context = nil
    }

    // MARK: Calls

    /// Sends a REQUEST frame and registers where its answers go; `window` is the flow-control
    /// window its header announced (0 for none).
    func start(_ frame: ByteBuffer, requestID: UInt32, pending: PendingCall, timeout: Duration?, window: Int = 0) {
        guard let context, context.channel.isActive, !goneAway else {
            return fail(
                pending,
                RPCError(
                    .unavailable,
                    closeReason.map { "connection error: \($0)" }
                        ?? "connection is closed or draining",
                    details: ["not_processed": "true"]))
        }
        var call = Call(pending: pending, window: window)
        if let timeout {
            let (seconds, attoseconds) = timeout.components
            let deadline = NIODeadline.now() + .nanoseconds(max(0, seconds * 1_000_000_000 + attoseconds / 1_000_000_000))
            call.deadline = deadline
            deadlineTimer.arm(at: deadline, on: context.eventLoop) { [self] in self.deadlinesPassed() }
        }
        calls.insert(call, for: requestID)
        write(frame)
    }

    /// Gives up on a call: the caller is told `error` and the server is sent CANCEL.
    func abandon(_ requestID: UInt32, _ error: RPCError) {
        guard let call = calls.remove(requestID) else { return }
        fail(call.pending, error)
        if let context, context.channel.isActive {
            var cancel = context.channel.allocator.buffer(capacity: Frame.headerSize)
            cancel.writeFrameHeader(type: .cancel, flags: [], requestID: requestID, payloadLength: 0)
            write(cancel)
        }
    }

    /// The application took one answer of stream `requestID`: once half its window has been
    /// consumed, grant the server that much more with WINDOW_UPDATE (flow-controlled calls only).
    func consumed(_ requestID: UInt32) {
        // Mutated in place: a copy of the call would share `delivered` and copy it on write.
        guard let context else { return }
        var grant = 0
        calls.update(requestID) { call in
            guard call.flowControlled, let size = call.delivered?.popFirst() else { return }
            call.ungranted += size
            if call.ungranted >= max(1, call.window / 2) {
                grant = call.ungranted
                call.ungranted = 0
            }
        }
        if grant > 0 {
            var update = context.channel.allocator.buffer(capacity: Frame.headerSize + 4)
            update.writeFrameHeader(type: .windowUpdate, flags: [], requestID: requestID, payloadLength: 4)
            update.writeInteger(UInt32(min(grant, Int(UInt32.max))))
            write(update)
        }
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        heardSinceLastPing = true
        do {
            try frames.read(unwrapInboundIn(data)) { frame in handleFrame(frame, context: context) }
        } catch {
            logger.warning("invalid frame from the server: \(error); closing")
            failAll(RPCError(.unavailable, "invalid frame from the server: \(error)"))
            context.close(promise: nil)
        }
    }

    private func handleFrame(_ frame: Frame, context: ChannelHandlerContext) {
        switch frame.type {
        case .message:
            var payload = frame.payload
            if frame.flags.contains(.flowControlled) {
                let size = payload.readableBytes
                calls.update(frame.requestID) { call in
                    guard call.window > 0 else { return }
                    call.flowControlled = true
                    if call.delivered == nil { call.delivered = CircularBuffer(initialCapacity: 8) }
                    call.delivered!.append(size)
                }
            }
            if frame.flags.contains(.compressed) {
                do {
                    payload = try MessageCompression.decompress(
                        payload, maximumSize: configuration.maximumPayloadSize, allocator: context.channel.allocator)
                } catch {
                    return abandon(frame.requestID, error)
                }
            }
            if frame.flags.contains(.end) {
                guard let call = calls.remove(frame.requestID) else { return }
                switch call.pending {
                case .unary(let continuation):
                    continuation.resume(returning: payload)
                case .stream(let sink):
                    sink.yield(payload)
                    sink.finish()
                case .callback(let completion):
                    completion(.success(payload))
                }
            } else {
                guard let call = calls[frame.requestID] else { return }
                switch call.pending {
                case .unary, .callback:
                    abandon(frame.requestID, RPCError(.internal, "server streamed answers to a unary call"))
                case .stream(let sink):
                    sink.yield(payload)
                    if sink.consumesOnDelivery { consumed(frame.requestID) }
                }
            }
        case .status:
            guard let call = calls.remove(frame.requestID) else { return }
            let status =
                (try? frame.payload.decodeProtoMessage(Retain_V1_CallStatus.self))
                ?? Retain_V1_CallStatus(code: RPCStatusCode.internal.rawValue, message: "malformed status from server")
            if status.code == 0 {
                switch call.pending {
                case .unary(let continuation):
                    continuation.resume(throwing: RPCError(.internal, "server ended a unary call without an answer"))
                case .stream(let sink):
                    sink.finish()
                case .callback(let completion):
                    completion(.failure(RPCError(.internal, "server ended a unary call without an answer")))
                }
            } else {
                fail(call.pending, RPCError(RPCStatusCode(rawValue: status.code), status.message, details: status.details))
            }
        case .ping:
            var pong = context.channel.allocator.buffer(capacity: Frame.headerSize + frame.payload.readableBytes)
            pong.writeFrame(Frame(type: .pong, requestID: 0, payload: frame.payload))
            write(pong)
        case .pong:
            pingOutstanding = false
        case .goAway:
            let goAway = try? frame.payload.decodeProtoMessage(Retain_V1_GoAway.self)
            logger.debug(
                "server sent GOAWAY",
                metadata: [
                    "code": "\(goAway?.code ?? 0)", "message": "\(goAway?.message ?? "")",
                ])
            goneAway = true
            goAwayLastRequestID = goAway?.lastRequestId
            onGoAway()
        default:
            logger.warning("unexpected \(frame.type) frame from the server; closing")
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        // After a GOAWAY, calls above its last accepted id never reached a handler: say so, so
        // that they are retried safely.
        if let last = goAwayLastRequestID {
            for (_, call) in calls.removeAll(where: { $0 > last }) {
                fail(
                    call.pending,
                    RPCError(
                        .unavailable, "connection closed before the server accepted the call",
                        details: ["not_processed": "true"]))
            }
        }
        failAll(RPCError(.unavailable, "connection closed"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.debug("connection error: \(error)")
        closeReason = "\(error)"
        failAll(RPCError(.unavailable, "connection error: \(error)"))
        context.close(promise: nil)
    }

    // MARK: Helpers

    private func keepaliveTick() {
        guard let context else { return }
        if pingOutstanding {
            logger.info("no PONG within the keepalive interval; closing connection")
            context.close(promise: nil)
            return
        }
        guard !heardSinceLastPing else {
            heardSinceLastPing = false
            return
        }
        pingOutstanding = true
        var ping = context.channel.allocator.buffer(capacity: Frame.headerSize + 8)
        ping.writeFrameHeader(type: .ping, flags: [], requestID: 0, payloadLength: 8)
        ping.writeInteger(UInt64(NIODeadline.now().uptimeNanoseconds))
        write(ping)
    }

    /// The deadline timer fired: every call whose deadline passed is given up on (its caller
    /// told DEADLINE_EXCEEDED, the server sent CANCEL), and the timer is armed at the earliest
    /// deadline left.
    private func deadlinesPassed() {
        deadlineTimer.fired()
        var sweep = DeadlineTimer.Sweep()
        calls.forEach { id, call in sweep.add(id, call.deadline) }
        for id in sweep.passed { abandon(id, RPCError(.deadlineExceeded, "deadline exceeded")) }
        // A caller told above may have started a call (and armed the timer for it) already.
        if let earliest = sweep.earliestLeft, let context {
            deadlineTimer.arm(at: earliest, on: context.eventLoop) { [self] in self.deadlinesPassed() }
        }
    }

    private func failAll(_ error: RPCError) {
        for (_, call) in calls.removeAll() {
            fail(call.pending, error)
        }
    }

    private func fail(_ pending: PendingCall, _ error: any Error) {
        switch pending {
        case .unary(let continuation): continuation.resume(throwing: error)
        case .stream(let sink): sink.finish(throwing: error)
        case .callback(let completion): completion(.failure(error))
        }
    }

    /// Frames up to this size are copied into the gathered buffer; larger ones are written as
    /// they are (after what was gathered before them), not copied.
    private static let largestGatheredFrame = 16 << 10

    /// Writes and flushes once per event loop tick, so calls started together share one buffer
    /// and one system call. Frames go out in the order they were written.
    private func write(_ buffer: ByteBuffer) {
        guard let context else { return }
        if buffer.readableBytes <= Self.largestGatheredFrame {
            // Taken out while appending, so the buffer is not shared and is not copied on write.
            var batch = gathered ?? spareBatch.take(allocator: context.channel.allocator)
            gathered = nil
            batch.writeImmutableBuffer(buffer)
            gathered = batch
        } else {
            writeGathered(context)
            context.write(wrapOutboundOut(buffer), promise: nil)
        }
        if !flushScheduled {
            flushScheduled = true
            context.eventLoop.assumeIsolated().execute { [self] in
                self.flushScheduled = false
                guard let context = self.context else { return }
                self.writeGathered(context)
                context.flush()
            }
        }
    }

    /// Hands the gathered frames to the channel.
    private func writeGathered(_ context: ChannelHandlerContext) {
        guard let batch = gathered else { return }
        gathered = nil
        context.write(wrapOutboundOut(batch), promise: nil)
        spareBatch.keep(batch)
    }
}
