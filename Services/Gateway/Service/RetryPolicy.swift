public import RetainWire

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
///
/// A shard's instance (its address is its leader's, from etcd) that refused a call as a
/// replica (`not_leader = true`) or could not be reached is tried again once the watch names the
/// next leader, for up to ``leaderWait`` per call; those repeats do not count against
/// ``maximumAttempts``, and the rules above still decide whether a repeat is safe at all.
public struct RetryPolicy: Sendable, Hashable {
    /// Most attempts per call, the first included. Default 3.
    public var maximumAttempts: Int
    /// Pause before trying an instance that already failed this call (a restarting backend),
    /// doubled each time. Default 50 ms.
    public var backoff: Duration

    /// How long one call may wait, in all, for shards' next leaders (within its deadline).
    /// Default 5 s: an election takes at most the lease TTL (default 2 s) and a little more.
    public var leaderWait: Duration

    public init(maximumAttempts: Int = 3, backoff: Duration = .milliseconds(50), leaderWait: Duration = .seconds(5)) {
        self.maximumAttempts = maximumAttempts
        self.backoff = backoff
        self.leaderWait = leaderWait
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

    /// Whether a shard's instance that failed a call with `error` may have a new leader soon: it
    /// refused as a replica, or could not be reached (the leader's process is gone).
    public static func awaitsNewLeader(after error: RPCError) -> Bool {
        error.details["not_leader"] == "true" || error.code == .unavailable
    }
}
