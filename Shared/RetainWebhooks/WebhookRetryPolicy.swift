public import RetainProto

/// When a failed delivery is tried again and when it is given up (docs/WEBHOOKS.md#retries).
///
/// After attempt n (1 for the first) fails, the next is due after
/// `min(maximumBackoffMs, initialBackoffMs * 2^(n-1))`, of which the second half is random
/// ("equal jitter"), so endpoints that failed together do not get their retries together. The
/// jitter is drawn before the result is logged and travels in the log entry, so replay gives the
/// same schedule. A delivery becomes a dead letter after `maximumAttempts` attempts, or when its
/// next attempt would come more than `maximumAgeMs` after the event.
public struct WebhookRetryPolicy: Sendable, Hashable {
    /// The first retry's delay. Default 1 s.
    public var initialBackoffMs: Int64 = 1_000
    /// The longest delay between attempts. Default 1 hour.
    public var maximumBackoffMs: Int64 = 3_600_000
    /// Attempts before a delivery is given up. Default 20 (about 9 hours with the defaults).
    public var maximumAttempts: UInt32 = 20
    /// Age (from the event) after which a delivery is given up. Default 3 days.
    public var maximumAgeMs: Int64 = 3 * 86_400_000

    public init() {}

    /// How an answer is taken.
    public enum Verdict: Sendable, Hashable {
        /// 2xx: delivered.
        case delivered
        /// 408, 429, 5xx, any other status, or no answer: try again (within the limits).
        case retry
        /// Other 4xx: the endpoint refuses this delivery; retrying will not help.
        case deadLetter
        /// 410 Gone: the endpoint is gone; the subscription stops.
        case gone
    }

    /// The verdict on an HTTP status; nil (no answer: refused, reset, timed out) is a retry.
    public static func verdict(status: UInt32?) -> Verdict {
        guard let status else { return .retry }
        switch status {
        case 200..<300: return .delivered
        case 410: return .gone
        case 408, 429: return .retry
        case 400..<500: return .deadLetter
        default: return .retry
        }
    }

    /// The delay after failed attempt `attempt` (1-based), with `random` in 0..<1 choosing the
    /// jitter.
    public func backoffMs(afterAttempt attempt: UInt32, random: Double) -> Int64 {
        var base = max(initialBackoffMs, 1)
        var doubled: UInt32 = 1
        while doubled < attempt, base < maximumBackoffMs {
            base *= 2
            doubled += 1
        }
        base = min(base, maximumBackoffMs)
        let half = base / 2
        return base - half + Int64(Double(half) * min(max(random, 0), 0.999_999))
    }

    /// The result to log for an attempt of `delivery` (its attempt number is
    /// `delivery.attempts + 1`) that ended at `now` with `status` (nil: no answer) and `error`.
    public func result(
        of delivery: Retain_V1_WebhookDelivery, status: UInt32?, error: String, now: Int64, random: Double
    ) -> Retain_V1_WebhookAttemptResult {
        var result = Retain_V1_WebhookAttemptResult(
            deliveryId: delivery.deliveryId, outcome: .retry, atMs: now, statusCode: status ?? 0, error: error)
        let attempt = delivery.attempts + 1
        switch Self.verdict(status: status) {
        case .delivered:
            result.outcome = .delivered
            result.error = ""
        case .gone:
            result.outcome = .gone
        case .deadLetter:
            result.outcome = .deadLettered
        case .retry:
            let next = now + backoffMs(afterAttempt: attempt, random: random)
            if attempt >= maximumAttempts {
                result.outcome = .deadLettered
                result.error = "gave up after \(attempt) attempts: " + error
            } else if next - delivery.createdAtMs > maximumAgeMs {
                result.outcome = .deadLettered
                result.error = "gave up at \(now - delivery.createdAtMs) ms old (limit \(maximumAgeMs) ms): " + error
            } else {
                result.nextAttemptAtMs = next
            }
        }
        return result
    }
}
