/// A token bucket: `rate` tokens a second, at most `capacity` held; each delivery takes one.
/// A value type driven by the caller's clock (seconds as a Double), so it is tested without
/// waiting.
public struct TokenBucket: Sendable, Equatable {
    /// Tokens added per second.
    public let rate: Double
    /// Tokens held at most (the burst).
    public let capacity: Double
    private var tokens: Double
    private var last: Double

    /// A full bucket at `now`.
    public init(rate: Double, capacity: Double, now: Double) {
        self.rate = max(rate, 0.000_001)
        self.capacity = max(capacity, 1)
        self.tokens = self.capacity
        self.last = now
    }

    /// Takes a token if one is there at `now`; returns whether it did.
    public mutating func take(now: Double) -> Bool {
        refill(now)
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }

    /// Whole tokens there at `now`.
    public mutating func available(now: Double) -> Int {
        refill(now)
        return Int(tokens.rounded(.down))
    }

    /// Seconds from `now` until a token is there (0 when one is).
    public mutating func wait(now: Double) -> Double {
        refill(now)
        return tokens >= 1 ? 0 : (1 - tokens) / rate
    }

    private mutating func refill(_ now: Double) {
        if now > last {
            tokens = min(capacity, tokens + (now - last) * rate)
            last = now
        }
    }
}
