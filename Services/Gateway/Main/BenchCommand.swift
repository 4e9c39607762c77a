import ArgumentParser
import Foundation
import GatewayCore
import RetainProto
import RetainProcess
import RetainRPC

/// `retain-gateway bench`: the gateway's added latency and its calls per second, measured in
/// one run against the same `retain-echo` backend called directly and through a gateway.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure the gateway's added latency (p50/p99) and calls per second, direct vs through the gateway.")

    @Option(help: "Sequential calls per path for the latency figures.")
    var calls: Int = 5000

    @Option(help: "Calls in flight at once for the throughput figures.")
    var concurrency: Int = 32

    @Option(name: .customLong("seconds"), help: "Seconds of load per path for the throughput figures.")
    var seconds: Double = 3

    @Option(help: "Bytes of payload per Echo call.")
    var payload: Int = 64

    func run() async throws {
        let directory = try makeTemporaryDirectory("retain-gateway-bench")
        defer { try? FileManager.default.removeItem(at: directory) }
        let echo = try ServerProcess("retain-echo", arguments: ["--log-level", "warning"])
        defer { echo.stop() }
        let topology = Topology(services: [Topology.Service(
            name: "retain.v1.Echo", instances: [Topology.Instance(id: "echo-0", host: "127.0.0.1", port: echo.port)])])
        let topologyFile = directory.appendingPathComponent("topology.json")
        try topology.encoded().write(to: topologyFile)
        let gateway = try ServerProcess("retain-gateway", arguments: ["--topology", topologyFile.path, "--log-level", "warning"])
        defer { gateway.stop() }

        let request = Retain_V1_EchoRequest(text: "bench", payload: [UInt8](repeating: 7, count: payload))
        let direct = RPCClient(host: "127.0.0.1", port: echo.port)
        let proxied = RPCClient(host: "127.0.0.1", port: gateway.port)
        for client in [direct, proxied] {
            for _ in 0..<500 { _ = try await client.unary(Retain_V1_Echo.echo, request) }
        }

        print("retain-gateway bench: Echo/Echo with a \(payload)-byte payload, one retain-echo backend, loopback")
        print("latency: \(calls) sequential calls per path; throughput: \(concurrency) calls in flight for \(seconds) s per path")
        print("")
        let directLatency = try await sequential(direct, request)
        let gatewayLatency = try await sequential(proxied, request)
        let directLoad = try await load(direct, request)
        let gatewayLoad = try await load(proxied, request)
        let rows: [[String]] = [
            ["direct, sequential", ms(directLatency.p50), ms(directLatency.p99), rate(directLatency.rate)],
            ["gateway, sequential", ms(gatewayLatency.p50), ms(gatewayLatency.p99), rate(gatewayLatency.rate)],
            ["added by the gateway", delta(gatewayLatency.p50 - directLatency.p50),
             delta(gatewayLatency.p99 - directLatency.p99), ""],
            ["direct, \(concurrency) in flight", ms(directLoad.p50), ms(directLoad.p99), rate(directLoad.rate)],
            ["gateway, \(concurrency) in flight", ms(gatewayLoad.p50), ms(gatewayLoad.p99), rate(gatewayLoad.rate)],
            ["added by the gateway", delta(gatewayLoad.p50 - directLoad.p50),
             delta(gatewayLoad.p99 - directLoad.p99), ""],
        ]
        table(["path", "p50 ms", "p99 ms", "calls/s"], rows)
        await direct.close()
        await proxied.close()
    }

    private struct Figures {
        var p50: Double
        var p99: Double
        var rate: Double
    }

    /// One call at a time.
    private func sequential(_ client: RPCClient, _ request: Retain_V1_EchoRequest) async throws -> Figures {
        var latencies: [Double] = []
        latencies.reserveCapacity(calls)
        let clock = ContinuousClock()
        let start = clock.now
        for _ in 0..<calls {
            let began = clock.now
            _ = try await client.unary(Retain_V1_Echo.echo, request)
            latencies.append(Self.millis(clock.now - began))
        }
        return Self.figures(latencies, elapsed: clock.now - start)
    }

    /// `concurrency` callers for `seconds`.
    private func load(_ client: RPCClient, _ request: Retain_V1_EchoRequest) async throws -> Figures {
        let clock = ContinuousClock()
        let start = clock.now
        let end = start + .milliseconds(Int(seconds * 1000))
        let latencies = try await withThrowingTaskGroup(of: [Double].self) { group in
            for _ in 0..<concurrency {
                group.addTask {
                    var mine: [Double] = []
                    while clock.now < end {
                        let began = clock.now
                        _ = try await client.unary(Retain_V1_Echo.echo, request)
                        mine.append(Self.millis(clock.now - began))
                    }
                    return mine
                }
            }
            var all: [Double] = []
            for try await part in group { all += part }
            return all
        }
        return Self.figures(latencies, elapsed: clock.now - start)
    }

    private static func figures(_ latencies: [Double], elapsed: Duration) -> Figures {
        let sorted = latencies.sorted()
        func percentile(_ p: Double) -> Double {
            sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
        }
        return Figures(p50: percentile(0.5), p99: percentile(0.99), rate: Double(sorted.count) / max(millis(elapsed) / 1000, 1e-9))
    }

    private static func millis(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
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
