package import ArgumentParser
import Foundation
import GatewayCore
import NIOCore
import RetainProto
import RetainProcess
import RetainRPC

/// `retain-bench gateway`: the gateway's added latency and its calls per second, measured in
/// one run against the same `retain-echo` backend called directly and through a gateway.
package struct GatewayBenchmark: AsyncParsableCommand {
    package static let configuration = CommandConfiguration(
        commandName: "gateway",
        abstract: "Measure the gateway's added latency (p50/p99) and calls per second, direct vs through the gateway.")

    @Option(help: "Sequential calls per path for the latency figures.")
    var calls: Int = 5000

    @Option(help: "Calls in flight at once for the throughput figures.")
    var concurrency: Int = 32

    @Option(help: "Client connections the calls in flight are spread over (each path).")
    var connections: Int = 1

    @Option(name: .customLong("seconds"), help: "Seconds of load per path for the throughput figures.")
    var seconds: Double = 3

    @Option(help: "Bytes of payload per Echo call.")
    var payload: Int = 64

    package init() {}

    package func run() async throws {
        let directory = try makeTemporaryDirectory("retain-gateway-bench")
        defer { try? FileManager.default.removeItem(at: directory) }
        let echo = try ServerProcess("retain-echo", arguments: ["--log-level", "warning"])
        defer { echo.stop() }
        let topology = Topology(services: [
            Topology.Service(
                name: "retain.v1.Echo", instances: [Topology.Instance(id: "echo-0", host: "127.0.0.1", port: echo.port)])
        ])
        let topologyFile = directory.appendingPathComponent("topology.json")
        try topology.encoded().write(to: topologyFile)
        let gateway = try ServerProcess("retain-gateway", arguments: ["--topology", topologyFile.path, "--log-level", "warning"])
        defer { gateway.stop() }

        let request = PipelinedClient.requestFrame(
            Retain_V1_Echo.echo, Retain_V1_EchoRequest(text: "bench", payload: [UInt8](repeating: 7, count: payload)))
        let direct = echo.port
        let proxied = gateway.port
        for port in [direct, proxied] {
            _ = try await PipelinedClient.run(.init(port: port)) { _ in RepeatedRequest(frame: request, count: 500) }
        }

        print("retain-bench gateway: Echo/Echo with a \(payload)-byte payload, one retain-echo backend, loopback")
        print(
            "latency: \(calls) sequential calls per path; throughput: \(concurrency) calls in flight over \(connections) connection(s) for \(seconds) s per path"
        )
        print("")
        let directLatency = try await sequential(direct, request)
        let gatewayLatency = try await sequential(proxied, request)
        let directLoad = try await load(direct, request)
        let gatewayLoad = try await load(proxied, request)
        let rows: [[String]] = [
            ["direct, sequential", ms(directLatency.p50), ms(directLatency.p99), rate(directLatency.rate)],
            ["gateway, sequential", ms(gatewayLatency.p50), ms(gatewayLatency.p99), rate(gatewayLatency.rate)],
            [
                "added by the gateway", delta(gatewayLatency.p50 - directLatency.p50),
                delta(gatewayLatency.p99 - directLatency.p99), "",
            ],
            ["direct, \(concurrency) in flight", ms(directLoad.p50), ms(directLoad.p99), rate(directLoad.rate)],
            ["gateway, \(concurrency) in flight", ms(gatewayLoad.p50), ms(gatewayLoad.p99), rate(gatewayLoad.rate)],
            [
                "added by the gateway", delta(gatewayLoad.p50 - directLoad.p50),
                delta(gatewayLoad.p99 - directLoad.p99), "",
            ],
        ]
        table(["path", "p50 ms", "p99 ms", "calls/s"], rows)
    }

    private struct Figures {
        var p50: Double
        var p99: Double
        var rate: Double
    }

    /// One call at a time, on one connection to `port`.
    private func sequential(_ port: Int, _ request: ByteBuffer) async throws -> Figures {
        var configuration = PipelinedClient.Configuration(port: port)
        configuration.recordLatencies = true
        let report = try await PipelinedClient.run(configuration) { _ in RepeatedRequest(frame: request, count: calls) }
        return Self.figures(report.latencies, seconds: report.seconds)
    }

    /// `concurrency` calls in flight, spread over `connections` connections to `port`, for
    /// `seconds`.
    private func load(_ port: Int, _ request: ByteBuffer) async throws -> Figures {
        var configuration = PipelinedClient.Configuration(port: port)
        configuration.connections = connections
        configuration.callsInFlight = max(1, concurrency / connections)
        configuration.deadline = .now() + .milliseconds(Int64(seconds * 1000))
        configuration.recordLatencies = true
        let report = try await PipelinedClient.run(configuration) { _ in RepeatedRequest(frame: request) }
        return Self.figures(report.latencies, seconds: report.seconds)
    }

    /// Percentiles in milliseconds of `latencies` (nanoseconds), and calls per second.
    private static func figures(_ latencies: [UInt64], seconds: Double) -> Figures {
        let sorted = latencies.sorted()
        func percentile(_ p: Double) -> Double {
            sorted.isEmpty ? 0 : Double(sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]) / 1e6
        }
        return Figures(p50: percentile(0.5), p99: percentile(0.99), rate: Double(sorted.count) / max(seconds, 1e-9))
    }

    private func ms(_ value: Double) -> String { String(format: "%.3f", value) }
    private func delta(_ value: Double) -> String { String(format: "%+.3f", value) }
    private func rate(_ value: Double) -> String { String(format: "%.0f", value) }

    private func table(_ header: [String], _ rows: [[String]]) {
        let widths = header.indices.map { column in ([header[column]] + rows.map { $0[column] }).map(\.count).max() ?? 0 }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { index, cell in
                let pad = String(repeating: " ", count: widths[index] - cell.count)
                return index == 0 ? cell + pad : pad + cell
            }.joined(separator: "  ")
        }
        print(line(header))
        print(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  "))
        for row in rows { print(line(row)) }
    }
}
