import Logging
import NIOCore
import RetainProto

/// Serves the calls of one connection: decodes REQUEST frames, dispatches them to the router,
/// writes answers, and enforces deadlines, cancellation, concurrency limits and draining.
///
/// All state is confined to the connection's event loop.
final class ServerConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = Frame
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// A call that has not answered yet.
    private struct LiveCall {
        var deadlineTask: Scheduled<Void>?
        var onCancel: (@Sendable () -> Void)?
        let metrics: MethodMetrics
        let started: NIODeadline
    }

    private let router: RPCRouter
    private let configuration: RPCServer.Configuration
    private let metrics: ServerMetrics
    private var logger: Logger
    private var context: ChannelHandlerContext?
    private var calls: [UInt32: LiveCall] = [:]
    private var lastRequestID: UInt32 = 0
    private var draining = false
    private var reading = false
    private var flushPending = false
    private var flushScheduled = false
    private var remoteAddress: SocketAddress?
    /// Reads held back while the peer does not read our answers.
    private var readHeld = false

    init(router: RPCRouter, configuration: RPCServer.Configuration, metrics: ServerMetrics, logger: Logger) {
        self.router = router
        self.configuration = configuration
        self.metrics = metrics
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        remoteAddress = context.channel.remoteAddress
        logger[metadataKey: "rpc.peer"] = "\(remoteAddress.map { "\($0)" } ?? "?")"
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        reading = true
        let frame = unwrapInboundIn(data)
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
        default:
            protocolError("unexpected \(frame.type) frame from a client", code: .invalidArgument)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        reading = false
        if flushPending {
            flushPending = false
            context.flush()
        }
        context.fireChannelReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        let live = calls
        calls.removeAll()
        for call in live.values {
            call.deadlineTask?.cancel()
            call.onCancel?()
            call.metrics.finished(.cancelled, since: call.started)
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let frameError = error as? FrameError {
            logger.info("closing connection: \(frameError)")
            protocolError(frameError.description, code: RPCStatusCode(rawValue: frameError.statusCode))
        } else {
            logger.debug("connection error: \(error)")
            context.close(promise: nil)
        }
    }

    // MARK: Back pressure

    func read(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            context.read()
        } else {
            readHeld = true
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable, readHeld {
            readHeld = false
            context.read()
        }
        context.fireChannelWritabilityChanged()
    }

    // MARK: Calls

    private func handleRequest(_ frame: Frame, context: ChannelHandlerContext) {
        let id = frame.requestID
        guard id != 0, calls[id] == nil else {
            return protocolError("request id \(id) is zero or already in use on this connection", code: .invalidArgument)
        }
        if draining {
            return writeStatus(id, RPCError(.unavailable, "server is draining: call not processed, retry elsewhere",
                                            details: ["not_processed": "true"]))
        }
        lastRequestID = max(lastRequestID, id)
        let request: RequestPayload
        do {
            request = try RequestPayload.decode(frame.payload)
        } catch {
            return writeStatus(id, error)
        }
        guard let entry = router.entry(for: request.header.method) else {
            metrics.unknownMethod()
            return writeStatus(id, RPCError(.unimplemented, "unknown method '\(request.header.method)'"))
        }
        var message = request.message
        if frame.flags.contains(.compressed) {
            do {
                message = try MessageCompression.decompress(
                    message, maximumSize: configuration.maximumPayloadSize, allocator: context.channel.allocator)
            } catch {
                return writeStatus(id, error)
            }
        }
        let started = NIODeadline.now()
        let timeout = request.header.timeoutUs
        let deadline: NIODeadline? = timeout == 0 ? nil : started + .microseconds(Int64(min(timeout, UInt64(Int64.max / 1000))))
        let callContext = ServerContext(header: request.header, requestID: id, deadline: deadline,
                                        remoteAddress: remoteAddress, logger: logger)
        let methodMetrics = metrics.method(entry.method.path)

        switch entry.handler {
        case .inline(let body):
            var answer = context.channel.allocator.buffer(capacity: 128)
            answer.writeFrameHeader(type: .message, flags: .end, requestID: id, payloadLength: 0)
            do {
                try body(message, callContext, &answer)
            } catch {
                methodMetrics.finished(ServerResponder.statusCode(for: error), since: started)
                return writeStatus(id, error)
            }
            answer.setInteger(UInt32(answer.readableBytes - Frame.headerSize), at: answer.readerIndex)
            methodMetrics.finished(.ok, since: started)
            write(answer)

        case .deferred(let body):
            guard calls.count < configuration.maximumConcurrentCallsPerConnection else {
                return writeStatus(id, RPCError(
                    .resourceExhausted,
                    "too many concurrent calls on this connection (limit \(configuration.maximumConcurrentCallsPerConnection))"))
            }
            var call = LiveCall(metrics: methodMetrics, started: started)
            if let deadline {
                call.deadlineTask = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
                    self.deadlineExceeded(id)
                }
            }
            calls[id] = call
            let responder = ServerResponder(
                eventLoop: context.eventLoop, connection: NIOLoopBound(self, eventLoop: context.eventLoop),
                requestID: id, allocator: context.channel.allocator)
            body(message, callContext, responder)
        }
    }

    /// Writes a frame of a live call; frames of calls that already ended are dropped.
    func writeCallFrame(_ buffer: ByteBuffer, requestID: UInt32, ends: Bool) {
        guard let call = calls[requestID] else { return }
        if ends {
            calls[requestID] = nil
            call.deadlineTask?.cancel()
            call.metrics.finished(Self.statusCode(inFrame: buffer), since: call.started)
        }
        write(buffer)
        if ends { closeIfDrained() }
    }

    func setCancelHandler(requestID: UInt32, _ handler: @escaping @Sendable () -> Void) {
        if calls[requestID] != nil {
            calls[requestID]!.onCancel = handler
        } else {
            handler()
        }
    }

    private func cancelCall(_ id: UInt32) {
        guard let call = calls.removeValue(forKey: id) else { return }
        call.deadlineTask?.cancel()
        call.onCancel?()
        call.metrics.finished(.cancelled, since: call.started)
        closeIfDrained()
    }

    private func deadlineExceeded(_ id: UInt32) {
        guard let call = calls.removeValue(forKey: id) else { return }
        call.onCancel?()
        call.metrics.finished(.deadlineExceeded, since: call.started)
        writeStatus(id, RPCError(.deadlineExceeded, "deadline exceeded"))
        closeIfDrained()
    }

    // MARK: Connection management

    /// Stops taking new calls, tells the client with GOAWAY, and closes once running calls end.
    func drain() {
        guard !draining, let context else { return }
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
        context.flush()
        context.close(promise: nil)
    }

    private func protocolError(_ message: String, code: RPCStatusCode) {
        guard let context else { return }
        writeGoAway(Retain_V1_GoAway(lastRequestId: lastRequestID, code: code.rawValue, message: message))
        context.flush()
        context.close(promise: nil)
    }

    private func writeGoAway(_ goAway: Retain_V1_GoAway) {
        guard let context else { return }
        var buffer = context.channel.allocator.buffer(capacity: 64)
        buffer.writeFrameHeader(type: .goAway, flags: [], requestID: 0, payloadLength: 0)
        buffer.writeProtoMessage(goAway)
        buffer.setInteger(UInt32(buffer.readableBytes - Frame.headerSize), at: buffer.readerIndex)
        write(buffer)
        context.flush()
    }

    private func writeStatus(_ id: UInt32, _ error: any Error) {
        guard let context else { return }
        var buffer = context.channel.allocator.buffer(capacity: 64)
        buffer.writeFrameHeader(type: .status, flags: [], requestID: id, payloadLength: 0)
        buffer.writeProtoMessage(ServerResponder.status(for: error))
        buffer.setInteger(UInt32(buffer.readableBytes - Frame.headerSize), at: buffer.readerIndex)
        write(buffer)
    }

    /// Writes and flushes: at the end of the current read burst, or at the end of this event
    /// loop tick, so that answers completed together share one system call.
    private func write(_ buffer: ByteBuffer) {
        guard let context else { return }
        context.write(wrapOutboundOut(buffer), promise: nil)
        if reading {
            flushPending = true
        } else if !flushScheduled {
            flushScheduled = true
            context.eventLoop.assumeIsolated().execute { [self] in
                self.flushScheduled = false
                self.context?.flush()
            }
        }
    }

    /// The status code of an encoded answer frame: OK for MESSAGE, the carried code for STATUS.
    private static func statusCode(inFrame buffer: ByteBuffer) -> RPCStatusCode {
        guard buffer.getInteger(at: buffer.readerIndex + 5, as: UInt8.self) == FrameType.status.rawValue else {
            return .ok
        }
        let payload = buffer.getSlice(at: buffer.readerIndex + Frame.headerSize,
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
