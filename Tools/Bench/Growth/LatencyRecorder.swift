/// Latencies of one benchmark phase, and the figures printed for it.
struct LatencyRecorder: Sendable {
    /// Call latencies in nanoseconds.
    var nanoseconds: [UInt64] = []

    mutating func record(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        nanoseconds.append(UInt64(seconds) * 1_000_000_000 + UInt64(attoseconds / 1_000_000_000))
    }

    mutating func merge(_ other: LatencyRecorder) {
        nanoseconds.append(contentsOf: other.nanoseconds)
    }

    /// Percentiles in microseconds.
    func percentiles(_ points: [Double]) -> [Double] {
        let sorted = nanoseconds.sorted()
        return points.map { point in
            guard !sorted.isEmpty else { return 0 }
            return Double(sorted[min(sorted.count - 1, Int(Double(sorted.count) * point))]) / 1000
        }
    }

    /// Mean in microseconds.
    var mean: Double {
        nanoseconds.isEmpty ? 0 : Double(nanoseconds.reduce(0, +)) / Double(nanoseconds.count) / 1000
    }
}

/// Prints rows as an aligned table: the first column left-aligned, the others right-aligned.
func printTable(_ header: [String], _ rows: [[String]]) {
    let widths = header.indices.map { column in ([header[column]] + rows.map { $0[column] }).map(\.count).max() ?? 0 }
    func line(_ cells: [String]) -> String {
        cells.enumerated().map { index, cell in
            let padding = String(repeating: " ", count: widths[index] - cell.count)
            return index == 0 ? cell + padding : padding + cell
        }.joined(separator: "  ")
    }
    print(line(header))
    print(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  "))
    for row in rows { print(line(row)) }
}

/// `value` with `digits` decimals.
func format(_ value: Double, _ digits: Int = 0) -> String {
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let rounded = (value * scale).rounded() / scale
    return digits == 0 ? String(Int(rounded)) : String(rounded)
}
