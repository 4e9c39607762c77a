public import NIOCore
public import RetainProto
import RetainWire

/// Answers one call from any thread: one answer (unary), or answers then a status (streaming).
/// Answers after the call ended (deadline, cancellation, closed connection) are dropped.
public struct ServerResponder: Sendable {
    let eventLoop: any EventLoop
    let connection: NIOLoopBound<ServerConnectionHandler>
    let requestID: UInt32
    let generation: UInt64
    let allocator: ByteBufferAllocator
    /// Answers at least this large are compressed; nil when the caller does not accept it.
    let compressionThreshold: Int?
    /// Whether the caller asked for flow control: MESSAGE frames say so (`FLOW_CONTROLLED`).
    var flowControlled = false

    /// Ends a unary call with its answer.
    public func succeed<M: ProtoMessage>(_ message: M) {
        send(frame(type: .message, flags: .end) { $0.writeProtoMessage(message) }, ends: true)
    }

    /// Sends one answer of a streaming call.
    public func send<M: ProtoMessage>(_ message: M) {
        send(frame(type: .message, flags: []) { $0.writeProtoMessage(message) }, ends: false)
    }

    /// Sends one answer of a streaming call, and returns once the call may take another without
    /// the server holding it: the caller's window has room (for a flow-controlled call) and the
    /// connection's unsent answers are under its limit. Throws CancellationError once the call
    /// has ended (cancelled, deadline, connection gone). The way for producers that can wait.
    public func sendWhenReady<M: ProtoMessage>(_ message: M) async throws {
        try await sendWhenReady(frame: frame(type: .message, flags: []) { $0.writeProtoMessage(message) })
    }

    /// Sends one already-encoded answer of a streaming call, like ``sendWhenReady(_:)``.
    public func sendWhenReady(encoded message: ByteBuffer) async throws {
        try await sendWhenReady(frame: frame(type: .message, flags: []) { $0.writeImmutableBuffer(message) })
    }

    private func sendWhenReady(frame buffer: ByteBuffer) async throws {
        try await withUnsafeThrowingContinuation { (waiter: UnsafeContinuation<Void, any Error>) in
            if eventLoop.inEventLoop {
                connection.value.writeCallFrame(buffer, requestID: requestID, generation: generation, ends: false, waiter: waiter)
            } else {
                eventLoop.execute {
                    connection.value.writeCallFrame(buffer, requestID: requestID, generation: generation, ends: false, waiter: waiter)
                }
            }
        }
    }

    /// Ends a unary call with an already-encoded answer (a proxy passing bytes through).
    public func succeed(encoded message: ByteBuffer) {
        send(frame(type: .message, flags: .end) { $0.writeImmutableBuffer(message) }, ends: true)
    }

    /// Sends one already-encoded answer of a streaming call.
    public func send(encoded message: ByteBuffer) {
        send(frame(type: .message, flags: []) { $0.writeImmutableBuffer(message) }, ends: false)
    }

    /// Ends the call with `error` (mapped to a status) or, for a stream, with OK when nil.
    public func finish(_ error: (any Error)? = nil) {
        let status = ServerResponder.status(for: error)
        send(frame(type: .status, flags: []) { $0.writeProtoMessage(status) }, ends: true)
    }

    /// Runs `handler` once if the call is cancelled or its deadline passes before it ends.
    public func onCancel(_ handler: @escaping @Sendable () -> Void) {
        if eventLoop.inEventLoop {
            connection.value.setCancelHandler(requestID: requestID, generation: generation, handler)
        } else {
            eventLoop.execute { connection.value.setCancelHandler(requestID: requestID, generation: generation, handler) }
        }
    }

    /// A complete frame for this call whose payload `body` writes.
    func frame(type: FrameType, flags: FrameFlags, _ body: (inout ByteBuffer) -> Void) -> ByteBuffer {
        var flags = flags
        if type == .message, flowControlled { flags.insert(.flowControlled) }
        var buffer = allocator.buffer(capacity: 64)
        buffer.writeFrameHeader(type: type, flags: flags, requestID: requestID, payloadLength: 0)
        body(&buffer)
        buffer.setFramePayloadLength(frameStart: buffer.readerIndex)
        if type == .message, let threshold = compressionThreshold {
            MessageCompression.compressFrame(
                in: &buffer, frameStart: buffer.readerIndex,
                messageStart: buffer.readerIndex + Frame.headerSize,
                threshold: threshold, allocator: allocator)
        }
        return buffer
    }

    private func send(_ buffer: ByteBuffer, ends: Bool) {
        if eventLoop.inEventLoop {
            connection.value.writeCallFrame(buffer, requestID: requestID, generation: generation, ends: ends)
        } else {
            eventLoop.execute { connection.value.writeCallFrame(buffer, requestID: requestID, generation: generation, ends: ends) }
        }
    }

    /// The status a thrown error becomes on the wire.
    static func status(for error: (any Error)?) -> Retain_V1_CallStatus {
        switch error {
        case nil:
            return Retain_V1_CallStatus(code: 0)
        case let error as RPCError where (1...16).contains(error.code.rawValue):
            return Retain_V1_CallStatus(code: error.code.rawValue, message: error.message, details: error.details)
        case let error as RPCError:
            // OK is not an error, and codes past 16 have no meaning on the wire.
            return Retain_V1_CallStatus(
                code: RPCStatusCode.unknown.rawValue,
                message: "handler failed with status code \(error.code.rawValue): \(error.message)",
                details: error.details)
        case let error as ProtoDecodingError:
            return Retain_V1_CallStatus(code: RPCStatusCode.invalidArgument.rawValue, message: error.description)
        case is CancellationError:
            return Retain_V1_CallStatus(code: RPCStatusCode.cancelled.rawValue, message: "cancelled")
        case let error?:
            return Retain_V1_CallStatus(code: RPCStatusCode.internal.rawValue, message: "internal error: \(type(of: error))")
        }
    }
}
