import Logging
import NIOCore
import RetainAuth
import RetainProto
import RetainWire

/// Serves the calls of one connection: reads frames, hands REQUESTs to the router, writes
/// answers, and enforces admission, deadlines, cancellation, limits and draining.
///
/// The one NIO handler on the connection's hot path; its jobs are done by small collaborators:
/// ``FrameReader`` (frames, admission before buffering, pausing), ``CallHeaderReader`` (the
/// call header), ``CallAdmission`` (credential, method access, rate limit), ``LiveCalls``
/// (calls that answer later: deadlines, cancellation) and ``AnswerBatch`` (write batching).
///
/// All state is confined to the connection's event loop.
final class ServerConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    // The `@exclusivity(unchecked)` fields are touched only on the connection's event loop and never re-entered, so
    // the runtime's exclusivity checks on them (hundreds of instructions per call) buy nothing.
    /// Reads call headers; its arena also decodes requests and encodes answers of inline calls.
    private let headers: CallHeaderReader
    /// Serves paths that no method matches, when the router has a fallback.
    private let fallback: RPCRouter.FallbackHandler?
    @exclusivity(unchecked) private var answers: AnswerBatch
    private let configuration: RPCServer.Configuration
    private let metrics: ServerMetrics
    @exclusivity(unchecked) private var logger: Logger
    @exclusivity(unchecked) private var context: ChannelHandlerContext?
    @exclusivity(unchecked) private var calls: LiveCalls
    @exclusivity(unchecked) private var admission: CallAdmission
    @exclusivity(unchecked) private var lastRequestID: UInt32 = 0
    @exclusivity(unchecked) private var draining = false
    /// Whether ``drain()`` ran (GOAWAY sent, the drain timeout set).
    @exclusivity(unchecked) private var drainStarted = false
    /// Whether the client closed its side: it can grant no more credit.
    @exclusivity(unchecked) private var inputClosed = false
    @exclusivity(unchecked) private var remoteAddress: SocketAddress?
    /// Reads held back while the peer does not read our answers.
    private var readHeld = false
    @exclusivity(unchecked) private var frames: FrameReader
    @exclusivity(unchecked) private var closing = false
    /// Fires when a frame has been arriving for longer than the frame timeout.
    @exclusivity(unchecked) private var slowFrameTimer: Scheduled<Void>?
    /// Checks for an idle connection.
    private var idleTimer: RepeatedTask?
    @exclusivity(unchecked) private var lastActivity = NIODeadline.now()
    /// Shared with every connection of the server: memory and connection budgets.
    private let budget: ConnectionBudget
    /// Closes the connection if it has not presented a credential in time.
    private var admissionTimer: Scheduled<Void>?
    /// The deadlines of the connection's live calls (one timer, not one per call).
    @exclusivity(unchecked) private var deadlineTimer = DeadlineTimer()
    /// Bytes this connection has charged to the budget: buffered incoming frames and answers
    /// held for stream credit.
    @exclusivity(unchecked) private var chargedBytes = 0
    /// This connection's share of the memory budget, as the budget sees it.
    private let load: ConnectionBudget.Load
    /// Whether frames are held back because the peer does not read its answers.
    @exclusivity(unchecked) private var framesPaused = false

    init(
        methods: MethodTable, fallback: RPCRouter.FallbackHandler? = nil, configuration: RPCServer.Configuration,
        metrics: ServerMetrics, budget: ConnectionBudget, load: ConnectionBudget.Load = .init(), logger: Logger
    ) {
        self.load = load
        self.headers = CallHeaderReader(
            methods: methods, arena: ProtoArena(blockSize: 4096),
            authenticating: configuration.authenticator != nil)
        self.fallback = fallback
        self.configuration = configuration
        self.metrics = metrics
        self.budget = budget
        self.logger = logger
        self.answers = AnswerBatch(maximumUnsentBytes: configuration.maximumUnsentBytes)
        self.calls = LiveCalls(maximum: configuration.maximumConcurrentCallsPerConnection)
        self.admission = CallAdmission(authenticator: configuration.authenticator)
        self.frames = FrameReader(
            maximumPayloadSize: configuration.maximumPayloadSize,
            unadmittedPayloadSize: configuration.unadmittedPayloadSize)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        remoteAddress = context.channel.remoteAddress
        logger[metadataKey: "rpc.peer"] = "\(remoteAddress.map { "\($0)" } ?? "?")"
        let idleTimeout = configuration.idleTimeout
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        idleTimer = context.eventLoop.scheduleRepeatedTask(
            initialDelay: idleTimeout, delay: .nanoseconds(max(1_000_000, idleTimeout.nanoseconds / 4))
        ) { _ in
            bound.value.closeIfIdle()
        }
        if !admission.isAdmitted {
            let timeout = configuration.admissionTimeout
            admissionTimer = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) { [self] in
                guard !self.admission.isAdmitted else { return }
                self.logger.info("closing connection: no valid credential within \(timeout.nanoseconds / 1_000_000) ms")
                self.protocolError(
                    "no call with a valid credential within \(timeout.nanoseconds / 1_000_000) ms",
                    code: .unauthenticated)
            }
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        idleTimer?.cancel()
        slowFrameTimer?.cancel()
        admissionTimer?.cancel()
        deadlineTimer.cancel()
        _ = budget.charge(-chargedBytes, by: load)
        chargedBytes = 0
        self.context = nil
    }

    /// After ``admission`` admitted the connection: it may send large frames and is no longer
    /// closed first when the server runs out of connections.
    private func connectionAdmitted() {
        guard let admissionTimer else { return }
        admissionTimer.cancel()
        self.admissionTimer = nil
        if let channel = context?.channel { budget.markAdmitted(channel) }
    }

    /// Closes the connection with GOAWAY when no call runs and nothing arrived for the idle timeout.
    private func closeIfIdle() {
        guard calls.isEmpty, frames.bufferedBytes == 0, NIODeadline.now() - lastActivity >= configuration.idleTimeout else {
            return
        }
        logger.debug("closing idle connection")
        draining = true
        writeGoAway(Retain_V1_GoAway(lastRequestId: lastRequestID, code: 0, message: "idle connection closed"))
        closeIfDrained()
    }

    /// Starts or stops the slow-sender timer after a read: a frame that stays incomplete for
    /// longer than the frame timeout ends the connection.
    private func watchPartialFrame(context: ChannelHandlerContext) {
        if frames.bufferedBytes == 0 {
            slowFrameTimer?.cancel()
            slowFrameTimer = nil
        } else if slowFrameTimer == nil {
            let timeout = configuration.frameTimeout
            slowFrameTimer = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) { [self] in
                self.slowFrameTimer = nil
                guard self.frames.bufferedBytes > 0 else { return }
                self.logger.info("closing connection: a frame took longer than \(timeout) to arrive")
                self.protocolError(
                    "frame not received within \(timeout.nanoseconds / 1_000_000) ms",
                    code: .deadlineExceeded)
            }
        }
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing else { return }
        answers.beginRead()
        lastActivity = .now()
        readFrames(unwrapInboundIn(data), context: context)
    }

    /// Hands the complete frames in `bytes` (after any held back) to ``handleFrame(_:context:)``,
    /// until the peer's unread answers reach the limit; charges what stays buffered.
    private func readFrames(_ bytes: ByteBuffer, context: ChannelHandlerContext) {
        do {
            framesPaused = try frames.read(
                bytes,
                shouldPause: { [self] in !context.channel.isWritable || self.answers.isFull },
                admission: admission.isAdmitted
                    ? nil
                    : FrameReader.Admission(
                        isAdmitted: { [self] in self.admission.isAdmitted },
                        admit: { [self] header in
                            guard self.admission.admit(callHeader: header) else { return false }
                            self.connectionAdmitted()
                            return true
                        })
            ) { frame in
                if !closing {
                    // A complete frame restarts the slow-sender clock for the next one.
                    slowFrameTimer?.cancel()
                    slowFrameTimer = nil
                    handleFrame(frame, context: context)
                }
            }
            watchPartialFrame(context: context)
        } catch {
            logger.info("closing connection: \(error)")
            protocolError(error.description, code: RPCStatusCode(rawValue: error.statusCode))
            return
        }
        rechargeBudget()
    }

    /// Charges the budget with what this connection holds now: buffered incoming frames and
    /// answers waiting for stream credit. Past the budget the heaviest connection is shed.
    private func rechargeBudget() {
        let held = frames.bufferedBytes + calls.heldBytes
        guard held != chargedBytes else { return }
        let delta = held - chargedBytes
        chargedBytes = held
        let keep = budget.charge(delta, by: load) { heaviest in
            heaviest.eventLoop.execute {
                try? heaviest.pipeline.syncOperations.handler(type: ServerConnectionHandler.self).shed()
            }
        }
        if !keep { shed() }
    }

    /// Closes this connection, the heaviest when the server's memory budget is used up.
    func shed() {
        logger.warning("closing connection: the server's memory budget is used up and this connection holds the most")
        protocolError(
            "server memory budget exhausted (\(budget.limits.memoryBytes) bytes): this connection held the most",
            code: .resourceExhausted)
    }

    private func handleFrame(_ frame: Frame, context: ChannelHandlerContext) {
        switch frame.type {
        case .request:
            handleRequest(frame, context: context)
        case .cancel:
            cancelCall(frame.requestID)
        case .ping:
            var pong = context.channel.allocator.buffer(capacity: Frame.headerSize + frame.payload.readableBytes)
            pong.writeFrame(Frame(type: .pong, requestID: 0, payload: frame.payload))
            write(pong)
        case .pong:
            break
        case .windowUpdate:
            guard frame.payload.readableBytes == 4, let increment = frame.payload.getInteger(at: frame.payload.readerIndex, as: UInt32.self)
            else {
                return protocolError("WINDOW_UPDATE payload must be 4 bytes, not \(frame.payload.readableBytes)", code: .invalidArgument)
            }
            grantCredit(increment, to: frame.requestID)
        default:
            protocolError("unexpected \(frame.type) frame from a client", code: .invalidArgument)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        // The burst's answers go out now, in one write: the end of a read burst is as late as
        // gathering can wait (a flush scheduled for the end of the tick cost a task per burst).
        let flush = answers.endRead()
        if handOverBatch() || flush { context.flush() }
        context.fireChannelReadComplete()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed {
            // The client will send nothing more: answer what runs, then close. No WINDOW_UPDATE
            // can come now, so a stream out of credit would wait for ever: it ends.
            draining = true
            inputClosed = true
            endStreamsOutOfCredit()
            closeIfDrained()
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        for call in calls.removeAll() {
            call.cancel()
            call.metrics.finished(.cancelled, since: call.started)
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.debug("connection error: \(error)")
        context.close(promise: nil)
    }

    // MARK: Back pressure

    func read(context: ChannelHandlerContext) {
        if context.channel.isWritable, !framesPaused {
            context.read()
        } else {
            readHeld = true
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable, framesPaused, !closing {
            // The peer read its answers: serve the frames held back, then read again.
            answers.beginRead()
            readFrames(ByteBuffer(), context: context)
            _ = answers.endRead()
            writeBatch()
            context.flush()
        }
        if context.channel.isWritable, readHeld, !framesPaused {
            readHeld = false
            context.read()
        }
        if context.channel.isWritable {
            for waiter in calls.takeReadyWaiters(of: nil) { waiter.resume() }
        }
        context.fireChannelWritabilityChanged()
    }

    // MARK: Calls

    private func handleRequest(_ frame: Frame, context: ChannelHandlerContext) {
        let id = frame.requestID
        guard id != 0, !calls.contains(id) else {
            return protocolError("request id \(id) is zero or already in use on this connection", code: .invalidArgument)
        }
        if draining {
            return writeStatus(id, CallRoute.draining)
        }
        if budget.isExhausted {
            return writeStatus(
                id,
                RPCError(
                    .resourceExhausted, "server memory budget exhausted: call not processed, retry later",
                    details: ["not_processed": "true"]))
        }
        lastRequestID = max(lastRequestID, id)
        var call: CallHeaderReader.Call
        do {
            call = try headers.read(frame.payload, verifiedCredential: admission.verifiedCredential)
        } catch {
            return writeStatus(id, error)
        }
        let parsed = call.header
        guard
            let route = CallRoute(
                method: parsed.method, name: parsed.name, fallback: fallback, metrics: metrics,
                authenticating: configuration.authenticator != nil)
        else {
            return writeStatus(id, CallRoute.unknownMethod(parsed.name))
        }
        let (path, handler, methodMetrics, access) = (route.path, route.handler, route.metrics, route.access)
        var caller: Caller?
        if admission.authenticator != nil {
            let wasAdmitted = admission.isAdmitted
            defer { if !wasAdmitted, admission.isAdmitted { connectionAdmitted() } }
            do throws(RPCError) {
                caller = try admission.check(credential: parsed.credential, access: access, method: path)
            } catch {
                logger.debug("call refused", metadata: ["rpc.method": "\(path)", "rpc.status": "\(error.code)"])
                methodMetrics.finished(error.code, since: .now())
                return writeStatus(id, error)
            }
        }
        if frame.flags.contains(.compressed) {
            do {
                call.message = try MessageCompression.decompress(
                    call.message, maximumSize: configuration.maximumPayloadSize, allocator: context.channel.allocator)
            } catch {
                return writeStatus(id, error)
            }
        }
        let started = NIODeadline.now()
        let timeout = parsed.timeout
        let deadline: NIODeadline? = timeout == 0 ? nil : started + .microseconds(Int64(min(timeout, UInt64(Int64.max / 1000))))
        let callContext = ServerContext(
            method: path, headerBytes: call.headerBytes, requestID: id,
            deadline: deadline, remoteAddress: remoteAddress, logger: logger, caller: caller)
        let arena = headers.arena

        switch handler {
        case .inline(let body):
            var answer = answers.takeForAppending(allocator: context.channel.allocator)
            let frameStart = answer.writerIndex
            answer.writeFrameHeader(type: .message, flags: .end, requestID: id, payloadLength: 0)
            let gate: AnswerGate?
            do {
                arena.reset()
                gate = try body(call.message, callContext, &answer, arena)
            } catch {
                answer.moveWriterIndex(to: frameStart)
                answers.pending = answer
                methodMetrics.finished(ServerResponder.statusCode(for: error), since: started)
                return writeStatus(id, error)
            }
            if let gate {
                // The answer waits: keep its message, take it out of the batch, and send it as a
                // live call's answer when the gate opens.
                let messageStart = frameStart + Frame.headerSize
                let held = answer.getSlice(at: messageStart, length: answer.writerIndex - messageStart)!
                var copy = context.channel.allocator.buffer(capacity: held.readableBytes)
                copy.writeImmutableBuffer(held)
                answer.moveWriterIndex(to: frameStart)
                answers.pending = answer
                guard
                    let responder = startLiveCall(
                        id, parsed: parsed, metrics: methodMetrics, started: started,
                        deadline: deadline, context: context)
                else { return }
                let answerBytes = copy
                gate.wait { error in
                    if let error { responder.finish(error) } else { responder.succeed(encoded: answerBytes) }
                }
                return
            }
            answer.setFramePayloadLength(frameStart: frameStart)
            if parsed.acceptsCompression {
                MessageCompression.compressFrame(
                    in: &answer, frameStart: frameStart, messageStart: frameStart + Frame.headerSize,
                    threshold: configuration.compressionThreshold, allocator: context.channel.allocator)
            }
            methodMetrics.finished(.ok, since: started)
            answers.pending = answer
            if !answers.reading { writeBatch() }

        case .deferred(let body):
            guard
                let responder = startLiveCall(
                    id, parsed: parsed, metrics: methodMetrics, started: started,
                    deadline: deadline, context: context)
            else { return }
            arena.reset()
            body(call.message, callContext, responder, arena)
        }
    }

    /// Registers a call that answers later (deferred, or inline held by a gate) with its deadline,
    /// and returns its responder; nil (and RESOURCE_EXHAUSTED written) past the per-connection limit.
    private func startLiveCall(
        _ id: UInt32, parsed: CallHeaderReader.Header, metrics methodMetrics: MethodMetrics, started: NIODeadline,
        deadline: NIODeadline?, context: ChannelHandlerContext
    ) -> ServerResponder? {
        let window = Int(parsed.windowBytes)
        guard let generation = calls.start(id, metrics: methodMetrics, started: started, window: window) else {
            writeStatus(
                id,
                RPCError(
                    .resourceExhausted,
                    "too many concurrent calls on this connection (limit \(configuration.maximumConcurrentCallsPerConnection))"))
            return nil
        }
        if let deadline {
            calls.setDeadline(id, deadline)
            deadlineTimer.arm(at: deadline, on: context.eventLoop) { [self] in self.deadlinesPassed() }
        }
        return ServerResponder(
            .connection(
                ServerResponder.Connection(
                    eventLoop: context.eventLoop, connection: NIOLoopBound(self, eventLoop: context.eventLoop),
                    requestID: id, generation: generation, allocator: context.channel.allocator,
                    compressionThreshold: parsed.acceptsCompression ? configuration.compressionThreshold : nil,
                    flowControlled: window > 0)))
    }

    /// Writes a frame of a live call; frames of calls that already ended are dropped. `waiter`
    /// (a producer awaiting room) resumes once the call may take another answer without it
    /// being held: its window has room and the connection is writable.
    func writeCallFrame(
        _ buffer: ByteBuffer, requestID: UInt32, generation: UInt64, ends: Bool,
        waiter: UnsafeContinuation<Void, any Error>? = nil
    ) {
        guard calls.isLive(requestID, generation: generation) else {
            waiter?.resume(throwing: CancellationError())
            return
        }
        if calls.isFlowControlled(requestID) {
            if let frame = calls.offer(buffer, to: requestID, endStatus: ends ? Self.statusCode(inFrame: buffer) : nil) {
                write(frame)
            }
            endIfSent(requestID)
            rechargeBudget()
            if inputClosed { endStreamsOutOfCredit() }
        } else if ends {
            let call = calls.end(requestID, generation: generation)!
            call.metrics.finished(Self.statusCode(inFrame: buffer), since: call.started)
            gather(buffer)
            closeIfDrained()
        } else {
            write(buffer)
        }
        if let waiter {
            calls.addWaiter(waiter, to: requestID)
            resumeReadyWaiters(of: requestID)
        }
    }

    /// A WINDOW_UPDATE: writes what the credit lets go, and wakes the call's producer if it has room.
    private func grantCredit(_ increment: UInt32, to id: UInt32) {
        for frame in calls.grant(increment, to: id) { write(frame) }
        endIfSent(id)
        rechargeBudget()
        resumeReadyWaiters(of: id)
    }

    /// Ends flow-controlled call `id` once its final frame has been written.
    private func endIfSent(_ id: UInt32) {
        guard let call = calls.removeIfFinished(id) else { return }
        call.metrics.finished(call.endStatus ?? .ok, since: call.started)
        closeIfDrained()
    }

    /// Ends the flow-controlled streams that are out of credit once the client closed its side
    /// (it can send no WINDOW_UPDATE now): each gets a CANCELLED status at once, past its window.
    private func endStreamsOutOfCredit() {
        for id in calls.outOfCredit() {
            writeStatus(id, RPCError(.cancelled, "the client closed its side of the connection while this stream was out of window credit"))
            cancelCall(id)
        }
    }

    /// Resumes the producers of call `id` when it may take another answer.
    private func resumeReadyWaiters(of id: UInt32) {
        guard context?.channel.isWritable ?? true else { return }
        for waiter in calls.takeReadyWaiters(of: id) { waiter.resume() }
    }

    func setCancelHandler(requestID: UInt32, generation: UInt64, _ handler: @escaping @Sendable () -> Void) {
        if !calls.setCancelHandler(requestID, generation: generation, handler) {
            handler()
        }
    }

    private func cancelCall(_ id: UInt32) {
        guard let call = calls.remove(id) else { return }
        call.cancel()
        call.metrics.finished(.cancelled, since: call.started)
        rechargeBudget()
        closeIfDrained()
    }

    /// The deadline timer fired: every live call whose deadline passed ends as
    /// DEADLINE_EXCEEDED, and the timer is armed at the earliest deadline left.
    private func deadlinesPassed() {
        deadlineTimer.fired()
        let sweep = calls.deadlines(passedAt: .now())
        for id in sweep.passed { deadlineExceeded(id) }
        // Ending those may have started calls (and armed the timer) already.
        if let earliest = sweep.earliestLeft, let context {
            deadlineTimer.arm(at: earliest, on: context.eventLoop) { [self] in self.deadlinesPassed() }
        }
    }

    private func deadlineExceeded(_ id: UInt32) {
        guard let call = calls.remove(id) else { return }
        call.cancel()
        call.metrics.finished(.deadlineExceeded, since: call.started)
        writeStatus(id, RPCError(.deadlineExceeded, "deadline exceeded"))
        rechargeBudget()
        closeIfDrained()
    }

    // MARK: Connection management

    /// Stops taking new calls, tells the client with GOAWAY, and closes once running calls end.
    func drain() {
        guard !drainStarted, let context else { return }
        drainStarted = true
        draining = true
        writeGoAway(Retain_V1_GoAway(lastRequestId: lastRequestID, code: 0, message: "server is shutting down"))
        if !calls.isEmpty {
            let timeout = configuration.drainTimeout
            context.eventLoop.assumeIsolated().scheduleTask(in: timeout) { [self] in
                if let context = self.context, context.channel.isActive {
                    self.logger.warning("closing connection with \(self.calls.count) calls still running after the drain timeout")
                    context.close(promise: nil)
                }
            }
        }
        closeIfDrained()
    }

    private func closeIfDrained() {
        guard draining, calls.isEmpty, let context else { return }
        flushNow()
        context.close(promise: nil)
    }

    private func protocolError(_ message: String, code: RPCStatusCode) {
        guard let context, !closing else { return }
        closing = true
        writeGoAway(Retain_V1_GoAway(lastRequestId: lastRequestID, code: code.rawValue, message: message))
        context.close(promise: nil)
    }

    private func writeGoAway(_ goAway: Retain_V1_GoAway) {
        guard let context else { return }
        var buffer = context.channel.allocator.buffer(capacity: 64)
        buffer.writeFrameHeader(type: .goAway, flags: [], requestID: 0, payloadLength: 0)
        buffer.writeProtoMessage(goAway)
        buffer.setInteger(UInt32(buffer.readableBytes - Frame.headerSize), at: buffer.readerIndex)
        write(buffer)
        flushNow()
    }

    private func writeStatus(_ id: UInt32, _ error: any Error) {
        guard let context else { return }
        var buffer = context.channel.allocator.buffer(capacity: 64)
        buffer.writeFrameHeader(type: .status, flags: [], requestID: id, payloadLength: 0)
        buffer.writeProtoMessage(ServerResponder.status(for: error))
        buffer.setInteger(UInt32(buffer.readableBytes - Frame.headerSize), at: buffer.readerIndex)
        write(buffer)
    }

    /// Hands the gathered answers to the channel as one buffer, flushed at the end of the read
    /// burst or of this event loop tick.
    private func writeBatch() {
        guard handOverBatch() else { return }
        scheduleFlush()
    }

    /// Hands the gathered answers to the channel; false when there are none.
    private func handOverBatch() -> Bool {
        guard let context, let batch = answers.take() else { return false }
        context.write(wrapOutboundOut(batch), promise: nil)
        answers.handedOver(batch)
        return true
    }

    /// Writes and flushes: at the end of the current read burst, or at the end of this event
    /// loop tick, so that answers completed together share one system call. Frames go out in
    /// the order they were written or gathered.
    private func write(_ buffer: ByteBuffer) {
        guard let context else { return }
        if let pending = answers.take() {
            context.write(wrapOutboundOut(pending), promise: nil)
            answers.handedOver(pending)
        }
        context.write(wrapOutboundOut(buffer), promise: nil)
        scheduleFlush()
    }

    /// Frames up to this size are gathered; larger ones are written as they are, not copied.
    private static let largestGatheredFrame = 16 << 10

    /// Writes the final frame of a call answered later (a durable write's answer, a forwarded
    /// call's): gathered with the other answers of this read burst or event loop tick into one
    /// buffer, handed to the channel at the flush. One buffer per tick rather than one per
    /// answer saves the pipeline's write path and its pending-writes bookkeeping per call. Only
    /// final frames are gathered: a stream's frames go to the channel at once, so that its
    /// writability (which producers wait on) counts them.
    private func gather(_ buffer: ByteBuffer) {
        guard let context, buffer.readableBytes <= Self.largestGatheredFrame else { return write(buffer) }
        // Taken out while appending, so the buffer is not shared and is not copied on write.
        var batch = answers.takeForAppending(allocator: context.channel.allocator)
        batch.writeImmutableBuffer(buffer)
        answers.pending = batch
        scheduleFlush()
    }

    /// Flushes at the end of the read burst, or schedules one flush at the end of this event
    /// loop tick.
    private func scheduleFlush() {
        guard let context, answers.wrote() else { return }
        context.eventLoop.assumeIsolated().execute { [self] in
            self.answers.scheduledFlushRan()
            self.flushNow()
        }
    }

    /// Hands the gathered answers to the channel and flushes.
    private func flushNow() {
        guard let context else { return }
        _ = handOverBatch()
        context.flush()
    }

    /// The status code of an encoded answer frame: OK for MESSAGE, the carried code for STATUS.
    private static func statusCode(inFrame buffer: ByteBuffer) -> RPCStatusCode {
        guard buffer.getInteger(at: buffer.readerIndex + 5, as: UInt8.self) == FrameType.status.rawValue else {
            return .ok
        }
        let payload = buffer.getSlice(
            at: buffer.readerIndex + Frame.headerSize,
            length: buffer.readableBytes - Frame.headerSize)
        let status = try? payload?.decodeProtoMessage(Retain_V1_CallStatus.self)
        return RPCStatusCode(rawValue: status?.code ?? RPCStatusCode.unknown.rawValue)
    }
}

extension ServerResponder {
    /// The status code a thrown error becomes.
    static func statusCode(for error: any Error) -> RPCStatusCode {
        RPCStatusCode(rawValue: status(for: error).code)
    }
}
