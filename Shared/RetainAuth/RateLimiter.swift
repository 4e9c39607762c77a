import Synchronization
public import RetainClock

/// A token bucket per caller: `rate` calls per second on average, bursts of up to `burst`.
public final class RateLimiter: Sendable {
    /// A rate and a burst.
    public struct Limit: Sendable, Hashable, Codable {
        /// Calls per second, on average.
        public var perSecond: Double
        /// Calls that may come at once after a quiet spell.
        public var burst: Double

        public init(perSecond: Double, burst: Double) {
            self.perSecond = perSecond
            self.burst = burst
        }

        /// The limit of a caller whose key names none: 200 calls/s, bursts of 400.
        public static let `default` = Limit(perSecond: 200, burst: 400)
    }

    private struct Bucket {
        var tokens: Double
        var updatedNs: UInt64
    }

    private let buckets = Mutex<[String: Bucket]>([:])
    private let now: @Sendable () -> UInt64

    /// A limiter on the monotonic clock, or on `now` (nanoseconds; tests).
    public init(now: @escaping @Sendable () -> UInt64 = { WallClock.monotonicNanoseconds() }) {
        self.now = now
    }

    /// Takes one call from `caller`'s bucket: nil when allowed, else how long until the next
    /// call would be.
    public func acquire(_ caller: String, limit: Limit) -> Duration? {
        let now = now()
        return buckets.withLock { buckets -> Duration? in
            if buckets.count > 100_000, buckets[caller] == nil { buckets.removeAll() }
            var bucket = buckets[caller] ?? Bucket(tokens: limit.burst, updatedNs: now)
            let elapsed = Double(now &- bucket.updatedNs) / 1e9
            bucket.tokens = min(limit.burst, bucket.tokens + elapsed * limit.perSecond)
            bucket.updatedNs = now
            defer { buckets[caller] = bucket }
            if bucket.tokens >= 1 {
                bucket.tokens -= 1
                return nil
            }
            let wait = limit.perSecond > 0 ? (1 - bucket.tokens) / limit.perSecond : 3600
            return .nanoseconds(Int64(wait * 1e9))
        }
    }
}
