public import Logging
public import NIOCore
public import RetainAuth
public import RetainProto

/// What a handler knows about the call it serves.
///
/// The call header stays encoded until a handler asks for it: most calls never need more than
/// the method and deadline, which the server reads without decoding the rest.
public struct ServerContext: Sendable {
    /// The fully qualified method name.
    public let method: String
    /// The request id on its connection.
    public let requestID: UInt32
    /// When the call must have answered, or nil without a deadline.
    public let deadline: NIODeadline?
    /// The caller's address.
    public let remoteAddress: SocketAddress?
    /// The verified caller, or nil when the server checks no credentials (or the method is open).
    public let caller: Caller?
    private let headerBytes: ByteBuffer
    private let connectionLogger: Logger

    package init(
        method: String, headerBytes: ByteBuffer, requestID: UInt32, deadline: NIODeadline?,
        remoteAddress: SocketAddress?, logger: Logger, caller: Caller? = nil
    ) {
        self.caller = caller
        self.method = method
        self.headerBytes = headerBytes
        self.requestID = requestID
        self.deadline = deadline
        self.remoteAddress = remoteAddress
        self.connectionLogger = logger
    }

    /// The call's header: method, deadline, credential, trace id, idempotency key and metadata.
    /// Decoded on each access; read it once when several fields are needed.
    public var header: Retain_V1_CallHeader {
        (try? headerBytes.decodeProtoMessage(Retain_V1_CallHeader.self)) ?? Retain_V1_CallHeader(method: method)
    }

    /// What a proxy passes on from the call's header: its trace id, idempotency key and
    /// metadata. A header of the plain shape clients send without them (``CallHeaderScan``) is
    /// not decoded.
    package var passedOn: (traceID: String, idempotencyKey: String, metadata: [String: String]) {
        if headerBytes.withUnsafeReadableBytes({ CallHeaderScan($0) }) != nil { return ("", "", [:]) }
        let header = header
        return (header.traceId, header.idempotencyKey, header.metadata)
    }

    /// The idempotency key the caller attached, or "".
    public var idempotencyKey: String { header.idempotencyKey }
    /// The trace id the caller attached, or "".
    public var traceID: String { header.traceId }
    /// The credential the caller attached, or "". Never log it.
    public var authorization: String { header.authorization }
    /// Other metadata.
    public var metadata: [String: String] { header.metadata }

    /// The value of metadata `key`, or nil: read from the header's bytes without decoding the
    /// rest of it (cheaper than ``metadata`` when one or two keys are asked for).
    public func metadata(_ key: String) -> String? {
        headerBytes.withUnsafeReadableBytes { CallHeaderMetadata.value(of: key, in: $0) }
    }

    /// A logger carrying the request id, method and trace id.
    public var logger: Logger {
        var logger = connectionLogger
        logger[metadataKey: "rpc.request_id"] = "\(requestID)"
        logger[metadataKey: "rpc.method"] = "\(method)"
        let traceID = traceID
        if !traceID.isEmpty { logger[metadataKey: "trace_id"] = "\(traceID)" }
        return logger
    }

    /// Time left before the deadline, or nil without one.
    public var timeRemaining: Duration? {
        deadline.map { .nanoseconds(($0 - .now()).nanoseconds) }
    }

    /// Options for a downstream call that carry this call's trace id and what is left of its
    /// deadline. The caller's credential is never passed on: the downstream call gets its own
    /// from the client's ``RPCClient/Configuration/credentials``.
    public func downstreamOptions(idempotencyKey: String? = nil) -> CallOptions {
        let header = header
        return CallOptions(
            timeout: timeRemaining, traceID: header.traceId,
            idempotencyKey: idempotencyKey ?? header.idempotencyKey)
    }
}
