/// What the demo sent: calls, failures by call and status, complaints and resolutions. Used for
/// progress lines and the closing check, never for the report's figures (those come from the
/// services).
actor DemoTally {
    private var counts = DemoActivity()

    func called(failure: String?) {
        counts.calls += 1
        if let failure {
            counts.failed += 1
            counts.failures[failure, default: 0] += 1
        }
    }

    func complained() { counts.complaints += 1 }

    func resolvedOne() { counts.resolved += 1 }

    func couponBelowThreshold() { counts.couponsBelowThreshold += 1 }

    func snapshot() -> DemoActivity { counts }
}

/// The demo's own counts of what it sent (progress and the closing check only).
public struct DemoActivity: Sendable {
    /// Calls made through the gateway.
    public var calls = 0
    /// Calls that failed.
    public var failed = 0
    /// Failures by "call: status".
    public var failures: [String: Int] = [:]
    /// Feedback items submitted.
    public var complaints = 0
    /// Feedback items resolved through the ResolveFeedbackFlow.
    public var resolved = 0
    /// Coupon redemptions the ledger refused because the order was under the threshold
    /// (expected: not failures).
    public var couponsBelowThreshold = 0
}
