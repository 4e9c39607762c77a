public import NIOCore
public import RetainProto
import RetainWire

/// Answers one call from any thread: one answer (unary), or answers then a status (streaming).
/// Answers after the call ended (deadline, cancellation, closed connection) are dropped.
///
/// A call arrives on a connection (its answers become frames the connection writes) or is handed
/// over inside the process (``InProcessCalls``: its answers go to an ``InProcessCall`` as they
/// are); handlers answer both alike.
public struct ServerResponder: Sendable {
    /// Where the answers go.
    enum Target: Sendable {
        /// A call of a connection.
        case connection(Connection)
        /// A call handed over in process.
        case inProcess(InProcessCall)
    }

    let target: Target

    init(_ target: Target) {
        self.target = target
    }

    /// Ends a unary call with its answer.
    public func succeed<M: ProtoMessage>(_ message: M) {
        switch target {
        case .connection(let connection):
            connection.send(connection.frame(type: .message, flags: .end) { $0.writeProtoMessage(message) }, ends: true)
        case .inProcess(let call):
            call.deliver(Self.encoded(message), ends: true)
        }
    }

    /// Sends one answer of a streaming call.
    public func send<M: ProtoMessage>(_ message: M) {
        switch target {
        case .connection(let connection):
            connection.send(connection.frame(type: .message, flags: []) { $0.writeProtoMessage(message) }, ends: false)
        case .inProcess(let call):
            call.deliver(Self.encoded(message), ends: false)
        }
    }

    /// Sends one answer of a streaming call after every answer of the call handed over before,
    /// from any thread: unlike ``send(_:)``, it never writes at once when called on the
    /// connection's event loop, where it would overtake answers other threads queued there.
    public func sendInOrder<M: ProtoMessage>(_ message: M) {
        switch target {
        case .connection(let connection):
            connection.sendQueued(connection.frame(type: .message, flags: []) { $0.writeProtoMessage(message) })
        case .inProcess(let call):
            call.deliver(Self.encoded(message), ends: false)
        }
    }

    /// Sends one answer of a streaming call, and returns once the call may take another without
    /// the server holding it: the caller's window has room (for a flow-controlled call) and the
    /// connection's unsent answers are under its limit. Throws CancellationError once the call
    /// has ended (cancelled, deadline, connection gone). The way for producers that can wait.
    public func sendWhenReady<M: ProtoMessage>(_ message: M) async throws {
        switch target {
        case .connection(let connection):
            try await connection.sendWhenReady(frame: connection.frame(type: .message, flags: []) { $0.writeProtoMessage(message) })
        case .inProcess(let call):
            try await call.sendWhenReady(Self.encoded(message))
        }
    }

    /// Sends one already-encoded answer of a streaming call, like ``sendWhenReady(_:)``.
    public func sendWhenReady(encoded message: ByteBuffer) async throws {
        switch target {
        case .connection(let connection):
            try await connection.sendWhenReady(frame: connection.frame(type: .message, flags: []) { $0.writeImmutableBuffer(message) })
        case .inProcess(let call):
            try await call.sendWhenReady(message)
        }
    }

    /// Ends a unary call with an already-encoded answer (a proxy passing bytes through).
    public func succeed(encoded message: ByteBuffer) {
        switch target {
        case .connection(let connection):
            connection.send(connection.frame(type: .message, flags: .end) { $0.writeImmutableBuffer(message) }, ends: true)
        case .inProcess(let call):
            call.deliver(message, ends: true)
        }
    }

    /// Sends one already-encoded answer of a streaming call.
    public func send(encoded message: ByteBuffer) {
        switch target {
        case .connection(let connection):
            connection.send(connection.frame(type: .message, flags: []) { $0.writeImmutableBuffer(message) }, ends: false)
        case .inProcess(let call):
            call.deliver(message, ends: false)
        }
    }

    /// Ends the call with `error` (mapped to a status) or, for a stream, with OK when nil.
    public func finish(_ error: (any Error)? = nil) {
        let status = ServerResponder.status(for: error)
        switch target {
        case .connection(let connection):
            connection.send(connection.frame(type: .status, flags: []) { $0.writeProtoMessage(status) }, ends: true)
        case .inProcess(let call):
            call.finish(status)
        }
    }

    /// Runs `handler` once if the call is cancelled or its deadline passes before it ends.
    public func onCancel(_ handler: @escaping @Sendable () -> Void) {
        switch target {
        case .connection(let connection): connection.onCancel(handler)
        case .inProcess(let call): call.onCancel(handler)
        }
    }

    /// `message` encoded, for a call that takes messages rather than frames.
    private static func encoded<M: ProtoMessage>(_ message: M) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeProtoMessage(message)
        return buffer
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
