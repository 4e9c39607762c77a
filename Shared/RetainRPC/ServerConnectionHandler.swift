import CRetainProto
import Logging
import NIOCore
import RetainAuth
import RetainProto
#if canImport(Glibc)
import Glibc
import RetainWire
#endif

/// Serves the calls of one connection: decodes REQUEST frames, dispatches them to the router,
/// writes answers, and enforces deadlines, cancellation, concurrency limits and draining.
///
/// All state is confined to the connection's event loop.
final class ServerConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// A call that has not answered yet.
    private struct LiveCall {
        /// Tells this call from a later one that reuses its request id.
        let generation: UInt64
        var deadlineTask: Scheduled<Void>?
        var onCancel: (@Sendable () -> Void)?
        let metrics: MethodMetrics
        let started: NIODeadline
    }

    // The `@exclusivity(unchecked)` fields are touched only on the connection's event loop and never re-entered, so
    // the runtime's exclusivity checks on them (hundreds of instructions per call) buy nothing.
    private let methods: MethodTable
    /// Serves paths that no method matches, when the router has a fallback.
    private let fallback: RPCRouter.FallbackHandler?
    /// Decodes headers and requests and encodes answers of inline calls, reused call after call.
    private let arena = ProtoArena(blockSize: 4096)
    /// Answers of the current read burst, written together at its end.
    @exclusivity(unchecked) private var batch: ByteBuffer?
    private let configuration: RPCServer.Configuration
    private let metrics: ServerMetrics
    @exclusivity(unchecked) private var logger: Logger
    @exclusivity(unchecked) private var context: ChannelHandlerContext?
    @exclusivity(unchecked) private var calls: [UInt32: LiveCall] = [:]
    @exclusivity(unchecked) private var lastRequestID: UInt32 = 0
    @exclusivity(unchecked) private var draining = false
    @exclusivity(unchecked) private var reading = false
    @exclusivity(unchecked) private var flushPending = false
    @exclusivity(unchecked) private var flushScheduled = false
    @exclusivity(unchecked) private var remoteAddress: SocketAddress?
    /// Reads held back while the peer does not read our answers.
    private var readHeld = false
    @exclusivity(unchecked) private var frames: FrameReader
    @exclusivity(unchecked) private var closing = false
    /// Numbers the calls of this connection, so a late answer of an ended call can never be
    /// taken for an answer of a new call that reuses its request id.
    @exclusivity(unchecked) private var nextGeneration: UInt64 = 0
    /// Fires when a frame has been arriving for longer than the frame timeout.
    @exclusivity(unchecked) private var slowFrameTimer: Scheduled<Void>?
    /// Checks for an idle connection.
    private var idleTimer: RepeatedTask?
    @exclusivity(unchecked) private var lastActivity = NIODeadline.now()
    /// The credential last verified on this connection and its caller: calls that carry the same
    /// credential skip verification while it is valid.
    @exclusivity(unchecked) private var verifiedCredential: [UInt8] = []
    @exclusivity(unchecked) private var verifiedCaller: Caller?
    /// Shared with every connection of the server: memory and connection budgets.
    private let budget: ConnectionBudget
    /// Whether a call of this connection presented a valid credential (always, without checks).
    @exclusivity(unchecked) private var admitted: Bool
    /// Closes the connection if it has not presented a credential in time.
    private var admissionTimer: Scheduled<Void>?
    /// Bytes of buffered incoming frames this connection has charged to the budget.
    @exclusivity(unchecked) private var chargedBytes = 0
    /// Whether frames are held back because the peer does not read its answers.
    @exclusivity(unchecked) private var framesPaused = false

    init(methods: MethodTable, fallback: RPCRouter.FallbackHandler? = nil, configuration: RPCServer.Configuration,
         metrics: ServerMetrics, budget: ConnectionBudget, logger: Logger) {
        self.methods = methods
        self.fallback = fallback
        self.configuration = configuration
        self.metrics = metrics
        self.budget = budget
        self.logger = logger
        self.admitted = configuration.authenticator == nil
        self.frames = FrameReader(maximumPayloadSize: configuration.maximumPayloadSize,
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
        if !admitted {
            let timeout = configuration.admissionTimeout
            admissionTimer = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) { [self] in
                guard !self.admitted else { return }
                self.logger.info("closing connection: no valid credential within \(timeout.nanoseconds / 1_000_000) ms")
                self.protocolError("no call with a valid credential within \(timeout.nanoseconds / 1_000_000) ms",
                                   code: .unauthenticated)
            }
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        idleTimer?.cancel()
        slowFrameTimer?.cancel()
        admissionTimer?.cancel()
        _ = budget.charge(-chargedBytes)
        chargedBytes = 0
        self.context = nil
    }

    /// The connection presented a valid credential: it may send large frames and is no longer
    /// closed first when the server runs out of connections.
    private func markAdmitted() {
        guard !admitted else { return }
        admitted = true
        admissionTimer?.cancel()
        admissionTimer = nil
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
                self.protocolError("frame not received within \(timeout.nanoseconds / 1_000_000) ms",
                                   code: .deadlineExceeded)
            }
        }
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing else { return }
        reading = true
        lastActivity = .now()
        readFrames(unwrapInboundIn(data), context: context)
    }

    /// Hands the complete frames in `bytes` (after any held back) to ``handleFrame(_:context:)``,
    /// until the peer's unread answers reach the limit; charges what stays buffered.
    private func readFrames(_ bytes: ByteBuffer, context: ChannelHandlerContext) {
        let maximumUnsent = configuration.maximumUnsentBytes
        do {
            framesPaused = try frames.read(
                bytes,
                shouldPause: { [self] in
                    !context.channel.isWritable || (self.batch?.readableBytes ?? 0) >= maximumUnsent
                },
                admission: admitted ? nil : FrameReader.Admission(
                    isAdmitted: { [self] in self.admitted },
                    admit: { [self] header in self.admit(callHeader: header) })
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
        let buffered = frames.bufferedBytes
        if buffered != chargedBytes {
            let delta = buffered - chargedBytes
            chargedBytes = buffered
            if !budget.charge(delta) {
                logger.warning("closing connection: the server's memory budget for incoming frames is used up")
                protocolError("server memory budget for incoming frames exhausted (\(budget.limits.memoryBytes) bytes)",
                              code: .resourceExhausted)
            }
        }
    }

    /// Checks the credential in the call header of a large REQUEST from an unadmitted
    /// connection, before its body is buffered; true admits the connection.
    private func admit(callHeader: ByteBuffer) -> Bool {
        guard let authenticator = configuration.authenticator else { return true }
        let credential: String? = callHeader.withUnsafeReadableBytes { raw in
            guard let scan = CallHeaderScan(raw), !scan.authorization.isEmpty else { return nil }
            return String(decoding: scan.authorization, as: UTF8.self)
        }
        guard let credential else { return false }
        return admit(credential: credential, with: authenticator)
    }

    /// Verifies `credential` outside a call's own check (a large first frame's header, an open
    /// method's call) and admits the connection when it is valid.
    private func admit(credential: String, with authenticator: any CallAuthenticator) -> Bool {
        guard (try? authenticate(credential, with: authenticator)) != nil else { return false }
        markAdmitted()
        return true
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
        default:
            protocolError("unexpected \(frame.type) frame from a client", code: .invalidArgument)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        reading = false
        writeBatch()
        if flushPending {
            flushPending = false
            context.flush()
        }
        context.fireChannelReadComplete()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed {
            // The client will send nothing more: answer what runs, then close.
            draining = true
            closeIfDrained()
        }
        context.fireUserInboundEventTriggered(event)
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
            reading = true
            readFrames(ByteBuffer(), context: context)
            reading = false
            writeBatch()
            context.flush()
        }
        if context.channel.isWritable, readHeld, !framesPaused {
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
        if budget.isExhausted {
            return writeStatus(id, RPCError(.resourceExhausted, "server memory budget exhausted: call not processed, retry later",
                                            details: ["not_processed": "true"]))
        }
        lastRequestID = max(lastRequestID, id)
        // REQUEST payload: uint32 header length, CallHeader, request message.
        let payload = frame.payload
        guard let headerLength = payload.getInteger(at: payload.readerIndex, as: UInt32.self),
              payload.readableBytes >= 4 + Int(headerLength) else {
            return writeStatus(id, RPCError(.invalidArgument, "REQUEST payload shorter than its declared call header"))
        }
        let headerBytes = payload.getSlice(at: payload.readerIndex + 4, length: Int(headerLength))!
        var message = payload.getSlice(at: payload.readerIndex + 4 + Int(headerLength),
                                       length: payload.readableBytes - 4 - Int(headerLength))!
        let methods = methods
        let arena = arena
        let authenticating = configuration.authenticator != nil
        let verifiedCredential = verifiedCredential
        let parsed: ParsedHeader? = headerBytes.withUnsafeReadableBytes { raw in
            // The header a client sends, read without libprotobuf-c; any other goes below.
            if let scan = CallHeaderScan(raw) {
                let method = methods.lookup(scan.method)
                var credential: String?
                if authenticating, !scan.authorization.elementsEqual(verifiedCredential) {
                    credential = String(decoding: scan.authorization, as: UTF8.self)
                }
                return ParsedHeader(method: method, timeout: scan.timeoutMicroseconds,
                                    name: method == nil ? String(decoding: scan.method, as: UTF8.self) : nil,
                                    acceptsCompression: scan.acceptsCompression, credential: credential)
            }
            arena.reset()
            guard let unpacked = ProtoCodec.unpack(Retain_V1_CallHeader.messageDescriptor, from: raw, arena: arena) else {
                return nil
            }
            let header = unpacked.assumingMemoryBound(to: Retain__V1__CallHeader.self)
            guard let name = header.pointee.method else {
                return ParsedHeader(method: nil, timeout: 0, name: "", acceptsCompression: false, credential: nil)
            }
            let nameBytes = UnsafeRawBufferPointer(start: name, count: strlen(name))
            // A name with a NUL inside reads shorter in C than it is on the wire; such a header is
            // malformed, not a call of the shorter name.
            guard nameBytes.isEmpty || Self.header(raw, holdsMethodField: nameBytes) else { return nil }
            let method = methods.lookup(nameBytes)
            var credential: String?
            if authenticating, let authorization = header.pointee.authorization {
                // The same credential as the last call's needs no second look.
                let bytes = UnsafeRawBufferPointer(start: authorization, count: strlen(authorization))
                credential = bytes.elementsEqual(verifiedCredential) ? nil : String(cString: authorization)
            } else if authenticating {
                credential = verifiedCredential.isEmpty ? nil : ""
            }
            return ParsedHeader(method: method, timeout: header.pointee.timeout_us,
                                name: method == nil ? String(cString: name) : nil,
                                acceptsCompression: header.pointee.accept_compression != 0, credential: credential)
        }
        guard let parsed else {
            return writeStatus(id, RPCError(.invalidArgument, "malformed call header"))
        }
        let path: String
        let handler: RPCRouter.Handler
        let methodMetrics: MethodMetrics
        let access: MethodAccess
        if let entry = parsed.method {
            path = entry.entry.method.path
            handler = entry.entry.handler
            methodMetrics = entry.metrics
            access = entry.access
        } else if let fallback, let name = parsed.name, !name.isEmpty {
            path = name
            handler = .deferred { request, context, responder, _ in fallback(name, request, context, responder) }
            methodMetrics = metrics.fallbackMethod(name)
            access = configuration.authenticator == nil ? .open : MethodAccessTable.access(for: name)
        } else {
            metrics.unknownMethod()
            return writeStatus(id, RPCError(.unimplemented, "unknown method \(FieldFormat.quoted(parsed.name ?? ""))"))
        }
        var caller: Caller?
        if let authenticator = configuration.authenticator, access != .open {
            do throws(RPCError) {
                let verified = try authenticate(parsed.credential, with: authenticator)
                if !admitted { markAdmitted() }
                try access.check(verified, method: path)
                try authenticator.admit(verified, method: path)
                caller = verified
            } catch {
                logger.debug("call refused", metadata: ["rpc.method": "\(path)", "rpc.status": "\(error.code)"])
                methodMetrics.finished(error.code, since: .now())
                return writeStatus(id, error)
            }
        } else if !admitted, let authenticator = configuration.authenticator, let credential = parsed.credential,
                  !credential.isEmpty {
            // An open method (Health) called with a valid credential admits the connection too;
            // without one it is served but does not keep the connection past the admission timeout.
            _ = admit(credential: credential, with: authenticator)
        }
        if frame.flags.contains(.compressed) {
            do {
                message = try MessageCompression.decompress(
                    message, maximumSize: configuration.maximumPayloadSize, allocator: context.channel.allocator)
            } catch {
                return writeStatus(id, error)
            }
        }
        let started = NIODeadline.now()
        let timeout = parsed.timeout
        let deadline: NIODeadline? = timeout == 0 ? nil : started + .microseconds(Int64(min(timeout, UInt64(Int64.max / 1000))))
        let callContext = ServerContext(method: path, headerBytes: headerBytes, requestID: id,
                                        deadline: deadline, remoteAddress: remoteAddress, logger: logger, caller: caller)

        switch handler {
        case .inline(let body):
            var answer = batch ?? context.channel.allocator.buffer(capacity: 4096)
            batch = nil
            let frameStart = answer.writerIndex
            answer.writeFrameHeader(type: .message, flags: .end, requestID: id, payloadLength: 0)
            let gate: AnswerGate?
            do {
                arena.reset()
                gate = try body(message, callContext, &answer, arena)
            } catch {
                answer.moveWriterIndex(to: frameStart)
                batch = answer
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
                batch = answer
                guard let responder = startLiveCall(id, parsed: parsed, metrics: methodMetrics, started: started,
                                                    deadline: deadline, context: context) else { return }
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
            batch = answer
            if !reading { writeBatch() }

        case .deferred(let body):
            guard let responder = startLiveCall(id, parsed: parsed, metrics: methodMetrics, started: started,
                                                deadline: deadline, context: context) else { return }
            arena.reset()
            body(message, callContext, responder, arena)
        }
    }

    /// Registers a call that answers later (deferred, or inline held by a gate) with its deadline,
    /// and returns its responder; nil (and RESOURCE_EXHAUSTED written) past the per-connection limit.
    private func startLiveCall(
        _ id: UInt32, parsed: ParsedHeader, metrics methodMetrics: MethodMetrics, started: NIODeadline,
        deadline: NIODeadline?, context: ChannelHandlerContext
    ) -> ServerResponder? {
        guard calls.count < configuration.maximumConcurrentCallsPerConnection else {
            writeStatus(id, RPCError(
                .resourceExhausted,
                "too many concurrent calls on this connection (limit \(configuration.maximumConcurrentCallsPerConnection))"))
            return nil
        }
        nextGeneration += 1
        var call = LiveCall(generation: nextGeneration, metrics: methodMetrics, started: started)
        if let deadline {
            call.deadlineTask = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
                self.deadlineExceeded(id)
            }
        }
        calls[id] = call
        return ServerResponder(
            eventLoop: context.eventLoop, connection: NIOLoopBound(self, eventLoop: context.eventLoop),
            requestID: id, generation: call.generation, allocator: context.channel.allocator,
            compressionThreshold: parsed.acceptsCompression ? configuration.compressionThreshold : nil)
    }

    /// The caller of a call whose header carried `credential` (nil: the same as the last verified
    /// one on this connection), from that memo while it is valid, else from the authenticator.
    private func authenticate(_ credential: String?, with authenticator: any CallAuthenticator) throws(RPCError) -> Caller {
        if credential == nil, let verifiedCaller,
           authenticator.nowMs() <= verifiedCaller.expiresAtMs &+ ServiceToken.clockSkewMs {
            return verifiedCaller
        }
        let text = credential ?? String(decoding: verifiedCredential, as: UTF8.self)
        verifiedCaller = nil
        verifiedCredential = []
        let caller = try authenticator.authenticate(text)
        verifiedCredential = Array(text.utf8)
        verifiedCaller = caller
        return caller
    }

    /// Writes a frame of a live call; frames of calls that already ended are dropped.
    func writeCallFrame(_ buffer: ByteBuffer, requestID: UInt32, generation: UInt64, ends: Bool) {
        guard let call = calls[requestID], call.generation == generation else { return }
        if ends {
            calls[requestID] = nil
            call.deadlineTask?.cancel()
            call.metrics.finished(Self.statusCode(inFrame: buffer), since: call.started)
        }
        write(buffer)
        if ends { closeIfDrained() }
    }

    func setCancelHandler(requestID: UInt32, generation: UInt64, _ handler: @escaping @Sendable () -> Void) {
        if calls[requestID]?.generation == generation {
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
        guard let context, !closing else { return }
        closing = true
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

    /// Whether the packed call header holds field 1 (method) with exactly `name` as its value.
    private static func header(_ raw: UnsafeRawBufferPointer, holdsMethodField name: UnsafeRawBufferPointer) -> Bool {
        var index = 0
        while index < raw.count {
            defer { index += 1 }
            guard raw[index] == 0x0A else { continue }
            // Read the varint length after the tag and compare it and the bytes that follow.
            var cursor = index + 1
            var length = 0
            var shift = 0
            while cursor < raw.count, shift < 35 {
                let byte = raw[cursor]
                length |= Int(byte & 0x7F) << shift
                cursor += 1
                if byte & 0x80 == 0 { break }
                shift += 7
            }
            if length == name.count, cursor + length <= raw.count,
               UnsafeRawBufferPointer(rebasing: raw[cursor..<(cursor + length)]).elementsEqual(name) {
                return true
            }
        }
        return false
    }

    /// Writes the answers batched during a read burst as one buffer.
    private func writeBatch() {
        guard let buffer = batch else { return }
        batch = nil
        write(buffer)
    }

    /// Writes and flushes: at the end of the current read burst, or at the end of this event
    /// loop tick, so that answers completed together share one system call.
    private func write(_ buffer: ByteBuffer) {
        guard let context else { return }
        if let pending = batch {
            batch = nil
            context.write(wrapOutboundOut(pending), promise: nil)
        }
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

/// What the server reads from a call header without decoding the rest.
private struct ParsedHeader {
    let method: ServerMethod?
    let timeout: UInt64
    let name: String?
    let acceptsCompression: Bool
    /// The call's credential when the server checks credentials and it differs from the one
    /// last verified on the connection; nil otherwise.
    let credential: String?
}
