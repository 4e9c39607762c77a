/// Call latencies of the last minute, for a backend's p50 and p99: a ring of at most
/// `capacity` recent samples, of which those younger than the window count.
struct LatencyWindow: Sendable {
    private var samples: [(atNanos: UInt64, millis: Double)] = []
    private var next = 0
    private let capacity: Int
    private let windowNanos: UInt64

    init(capacity: Int = 2048, window: Duration = .seconds(60)) {
        self.capacity = capacity
        self.windowNanos = UInt64(window.components.seconds) * 1_000_000_000
    }

    /// Adds one call's latency, observed at `nowNanos` (a monotonic clock).
    mutating func record(millis: Double, nowNanos: UInt64) {
        if samples.count < capacity {
            samples.append((nowNanos, millis))
        } else {
            samples[next] = (nowNanos, millis)
            next = (next + 1) % capacity
        }
    }

    /// The `quantile` (0 to 1) of the samples of the last window, or 0 without any.
    func quantile(_ quantile: Double, nowNanos: UInt64) -> Double {
        let recent = samples.filter { nowNanos &- $0.atNanos <= windowNanos }.map(\.millis).sorted()
        guard !recent.isEmpty else { return 0 }
        let rank = Int((quantile * Double(recent.count - 1)).rounded())
        return recent[min(max(rank, 0), recent.count - 1)]
    }
}
