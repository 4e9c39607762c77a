public import RetainProto

/// When the gateway may send a failed call again, to another instance or the same one.
///
/// A call is tried again only when a second execution cannot do harm:
/// - the failure says the call was never processed (`not_processed = true` in the status
///   details: the connection could not be opened, or the server was draining and refused it);
/// - or the call failed with UNAVAILABLE (its fate unknown: the connection broke) and it is
///   idempotent: it carries an idempotency key in its call header, so the backend answers a
///   repeat with the first answer, or its method is listed as idempotent for its service.
/// Every other status is the backend's answer and goes back to the caller as it is; a
/// DEADLINE_EXCEEDED is never retried (the caller's deadline is spent).
public struct RetryPolicy: Sendable, Hashable {
    /// Most attempts per call, the first included. Default 3.
    public var maximumAttempts: Int
    /// Pause before trying an instance that already failed this call (a restarting backend),
    /// doubled each time. Default 50 ms.
    public var backoff: Duration

    public init(maximumAttempts: Int = 3, backoff: Duration = .milliseconds(50)) {
        self.maximumAttempts = maximumAttempts
        self.backoff = backoff
    }

    /// Whether the call may be sent again after failing with `error`.
    /// - Parameters:
    ///   - error: the failed attempt's status.
    ///   - idempotencyKey: the call header's idempotency key ("" when none).
    ///   - methodIsIdempotent: the topology lists the method as idempotent (a read).
    public static func mayRetry(after error: RPCError, idempotencyKey: String, methodIsIdempotent: Bool) -> Bool {
        if error.details["not_processed"] == "true" { return true }
        guard error.code == .unavailable else { return false }
        return !idempotencyKey.isEmpty || methodIsIdempotent
    }
}
