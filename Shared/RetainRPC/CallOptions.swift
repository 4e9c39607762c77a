package import RetainProto

/// What a caller attaches to one call: credential, trace id, idempotency key, deadline and any
/// other metadata. Travels in the `CallHeader` of the REQUEST frame.
public struct CallOptions: Sendable, Hashable {
    /// How long the call may take, counted from when it is sent; nil for no deadline.
    public var timeout: Duration?
    /// The credential (API key or service token).
    public var authorization: String
    /// The trace id, propagated to downstream calls.
    public var traceID: String
    /// Makes a write safe to retry.
    public var idempotencyKey: String
    /// Other metadata, lower-case keys.
    public var metadata: [String: String]

    public init(
        timeout: Duration? = nil, authorization: String = "", traceID: String = "",
        idempotencyKey: String = "", metadata: [String: String] = [:]
    ) {
        self.timeout = timeout
        self.authorization = authorization
        self.traceID = traceID
        self.idempotencyKey = idempotencyKey
        self.metadata = metadata
    }

    /// No deadline, no metadata.
    public static let `default` = CallOptions()

    /// Whether these are the default options (no deadline, no metadata).
    var isDefault: Bool {
        timeout == nil && authorization.isEmpty && traceID.isEmpty && idempotencyKey.isEmpty && metadata.isEmpty
    }

    /// The `CallHeader` announcing a call of `method` with these options.
    package func header(method: String) -> Retain_V1_CallHeader {
        Retain_V1_CallHeader(
            method: method, timeoutUs: timeout.map { UInt64(max(1, $0.microseconds)) } ?? 0,
            authorization: authorization, traceId: traceID, idempotencyKey: idempotencyKey, metadata: metadata)
    }
}

extension Duration {
    /// The duration in whole microseconds, saturating at zero for negative values.
    var microseconds: Int64 {
        let (seconds, attoseconds) = components
        guard seconds >= 0 else { return 0 }
        return seconds &* 1_000_000 &+ attoseconds / 1_000_000_000_000
    }
}
