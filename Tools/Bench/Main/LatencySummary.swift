/// Throughput and latency percentiles of one benchmark run.
struct LatencySummary {
    let calls: Int
    let seconds: Double
    let p50: Double
    let p99: Double

    /// Summarises latencies in nanoseconds measured over `seconds`.
    init(latencies: [UInt64], seconds: Double) {
        let sorted = latencies.sorted()
        calls = sorted.count
        self.seconds = seconds
        func percentile(_ p: Double) -> Double {
            guard !sorted.isEmpty else { return 0 }
            return Double(sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]) / 1000
        }
        p50 = percentile(0.50)
        p99 = percentile(0.99)
    }

    var callsPerSecond: Double { Double(calls) / seconds }
}

/// Runs `concurrency` tasks that call `call` back to back for `duration` seconds, timing each
/// call; the closed-model load of the echo benchmarks.
func closedLoopLoad(
    concurrency: Int, duration: Int, _ call: @escaping @Sendable () async throws -> Void
) async throws
    -> LatencySummary
{
    let until = ContinuousClock.now + .seconds(duration)
    let latencies = try await withThrowingTaskGroup(of: [UInt64].self) { group in
        for _ in 0..<concurrency {
            group.addTask {
                var local: [UInt64] = []
                local.reserveCapacity(1 << 18)
                while ContinuousClock.now < until {
                    let start = ContinuousClock.now
                    try await call()
                    local.append(UInt64((ContinuousClock.now - start) / .nanoseconds(1)))
                }
                return local
            }
        }
        var all: [UInt64] = []
        for try await part in group { all += part }
        return all
    }
    return LatencySummary(latencies: latencies, seconds: Double(duration))
}

/// Prints rows as an aligned text table.
func printTable(_ header: [String], _ rows: [[String]]) {
    let widths = header.indices.map { column in
        ([header[column]] + rows.map { $0[column] }).map(\.count).max() ?? 0
    }
    func line(_ cells: [String]) -> String {
        cells.enumerated().map { index, cell in
            index == 0
                ? cell + String(repeating: " ", count: widths[index] - cell.count)
                : String(repeating: " ", count: widths[index] - cell.count) + cell
        }.joined(separator: "  ")
    }
    print(line(header))
    print(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  "))
    for row in rows { print(line(row)) }
}

extension Double {
    /// The value with `digits` decimals.
    func formatted(_ digits: Int) -> String {
        var multiplier = 1.0
        for _ in 0..<digits { multiplier *= 10 }
        let rounded = (self * multiplier).rounded() / multiplier
        return digits == 0 ? String(Int(rounded)) : String(rounded)
    }
}
