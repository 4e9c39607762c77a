import Foundation
import Histogram
import RetainProto
import RetainWire

/// What a load run measured: calls, rate, latency percentiles (HDR histogram, microseconds)
/// and the status codes answered.
struct LoadReport: Codable {
    struct Latency: Codable {
        var p50: Double
        var p90: Double
        var p99: Double
        var p999: Double
        var max: Double
        var mean: Double
    }

    var method: String
    var calls: UInt64
    var seconds: Double
    var callsPerSecond: Double
    var targetRate: Double?
    var concurrency: Int
    var connections: Int
    var latencyMicroseconds: Latency
    var statuses: [String: UInt64]

    init(
        method: String, histogram: Histogram<UInt64>, statuses: [UInt32: UInt64], seconds: Double,
        targetRate: Double?, concurrency: Int, connections: Int
    ) {
        self.method = method
        calls = statuses.values.reduce(0, +)
        self.seconds = seconds
        callsPerSecond = seconds > 0 ? Double(calls) / seconds : 0
        self.targetRate = targetRate
        self.concurrency = concurrency
        self.connections = connections
        let empty = histogram.totalCount == 0
        latencyMicroseconds = Latency(
            p50: empty ? 0 : Double(histogram.valueAtPercentile(50)),
            p90: empty ? 0 : Double(histogram.valueAtPercentile(90)),
            p99: empty ? 0 : Double(histogram.valueAtPercentile(99)),
            p999: empty ? 0 : Double(histogram.valueAtPercentile(99.9)),
            max: empty ? 0 : Double(histogram.max),
            mean: empty ? 0 : histogram.mean)
        self.statuses = Dictionary(uniqueKeysWithValues: statuses.map { (RPCStatusCode(rawValue: $0.key).name, $0.value) })
    }

    var text: String {
        var lines = [
            "method        \(method)",
            "calls         \(calls) in \(String(format: "%.2f", seconds)) s",
            "rate          \(String(format: "%.0f", callsPerSecond)) calls/s"
                + (targetRate.map { String(format: " (target %.0f/s, open model)", $0) } ?? " (closed model)"),
            "concurrency   \(concurrency) on \(connections) connection(s)",
            "latency (us)  p50 \(Int(latencyMicroseconds.p50))  p90 \(Int(latencyMicroseconds.p90))  "
                + "p99 \(Int(latencyMicroseconds.p99))  p99.9 \(Int(latencyMicroseconds.p999))  max \(Int(latencyMicroseconds.max))",
            "status",
        ]
        for (name, count) in statuses.sorted(by: { $0.value > $1.value }) {
            lines.append("  \(name.padding(toLength: 20, withPad: " ", startingAt: 0)) \(count)")
        }
        return lines.joined(separator: "\n")
    }

    var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
    }
}
