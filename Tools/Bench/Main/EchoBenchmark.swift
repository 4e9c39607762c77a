import ArgumentParser
import Foundation
import NIOCore
import RetainProcess
import RetainProto
import RetainRPC
import RetainTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// `retain-bench echo`: unary calls per second and latency of the RPC runtime's Echo, beside a
/// bare SwiftNIO length-prefixed echo, both as separate server processes on loopback.
struct EchoBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "echo", abstract: "RPC runtime echo vs bare SwiftNIO length-prefixed echo.")

    @Option(help: "Seconds per measurement.") var duration: Int = 5
    @Option(help: "Concurrent calls, comma separated.") var concurrency: String = "1,16,64"
    @Option(help: "Payload bytes per message.") var payload: Int = 16
    @Flag(help: "Add a row for the RPC echo over TLS (certificates made with openssl), beside plaintext.")
    var tls = false

    func run() async throws {
        let levels = concurrency.split(separator: ",").compactMap { Int($0) }
        let bare = try ServerProcess("retain-bench", arguments: ["bare-echo-server"])
        let runtime = try ServerProcess("retain-echo", arguments: ["--log-level", "warning"])
        let certificates = tls ? try TestCertificates() : nil
        let secure = try certificates.map {
            try ServerProcess(
                "retain-echo",
                arguments: [
                    "--log-level", "warning", "--tls-cert-file", $0.serverCertificateFile,
                    "--tls-key-file", $0.serverKeyFile,
                ])
        }
        defer {
            bare.stop()
            runtime.stop()
            secure?.stop()
            if let certificates { try? FileManager.default.removeItem(at: certificates.directory) }
        }
        let seconds = TimeAmount.seconds(Int64(duration))
        var rows: [[String]] = []
        func row(_ name: String, _ level: Int, _ summary: LatencySummary, vs anchor: LatencySummary?) -> [String] {
            [
                name, "\(level)", summary.callsPerSecond.formatted(0), summary.p50.formatted(1), summary.p99.formatted(1),
                anchor.map { "\((100 * summary.callsPerSecond / $0.callsPerSecond).formatted(0))%" } ?? "",
            ]
        }
        for level in levels {
            // Async callers awaiting each answer: the way services call each other.
            let bareAsync = try await BareAsyncClient.load(port: bare.port, payload: payload, concurrency: level, duration: duration)
            let ours = try await Self.runtimeLoad(port: runtime.port, payload: payload, concurrency: level, duration: duration)
            // A pipelining NIO handler as the load generator: what each server alone costs.
            let barePipelined = LatencySummary(
                latencies: try await BarePipelinedClient.run(
                    port: bare.port, payload: payload, concurrency: level,
                    duration: seconds),
                seconds: Double(duration))
            var request = ByteBuffer()
            RequestPayload.writeFrame(
                requestID: 1, header: Retain_V1_CallHeader(method: Retain_V1_Echo.echo.path),
                message: Retain_V1_EchoRequest(payload: Array(repeating: 0x61, count: payload)), into: &request)
            var pipelined = PipelinedClient.Configuration(port: runtime.port)
            pipelined.callsInFlight = level
            pipelined.deadline = .now() + seconds
            pipelined.recordLatencies = true
            let oursPipelined = LatencySummary(
                latencies: try await PipelinedClient.run(pipelined) { _ in RepeatedRequest(frame: request) }.latencies,
                seconds: Double(duration))
            rows.append(row("bare NIO echo, async client", level, bareAsync, vs: nil))
            rows.append(row("Retain RPC echo, RPCClient", level, ours, vs: bareAsync))
            if let secure, let certificates {
                let overTLS = try await Self.runtimeLoad(
                    port: secure.port, payload: payload, concurrency: level,
                    duration: duration, tls: try ClientTLS(caFile: certificates.caFile))
                rows.append(row("Retain RPC echo over TLS, RPCClient (vs plaintext)", level, overTLS, vs: ours))
            }
            rows.append(row("bare NIO echo, pipelining NIO client", level, barePipelined, vs: nil))
            rows.append(row("Retain RPC echo, pipelining NIO client", level, oursPipelined, vs: barePipelined))
        }
        print("unary echo, \(payload)-byte payload, one connection, \(duration) s each, client and server on this machine")
        printTable(["server", "concurrency", "calls/s", "p50 us", "p99 us", "vs bare"], rows)
    }

    /// `concurrency` tasks calling Echo back to back on one RPCClient connection.
    static func runtimeLoad(
        port: Int, payload: Int, concurrency: Int, duration: Int,
        tls: ClientTLS? = nil
    ) async throws -> LatencySummary {
        var configuration = RPCClient.Configuration()
        configuration.tls = tls
        let client = RPCClient(host: "127.0.0.1", port: port, configuration: configuration)
        let request = Retain_V1_EchoRequest(payload: Array(repeating: 0x61, count: payload))
        _ = try await client.unary(Retain_V1_Echo.echo, request)
        let summary = try await closedLoopLoad(concurrency: concurrency, duration: duration) {
            _ = try await client.unary(Retain_V1_Echo.echo, request)
        }
        await client.close()
        return summary
    }
}

/// `retain-bench bare-echo-server`: the anchor server, run as its own process by `echo`.
struct BareEchoServer: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bare-echo-server", abstract: "Serve the bare NIO echo.", shouldDisplay: false)

    @Option var port: Int = 0

    func run() async throws {
        let bound = try await BareEcho.serve(host: "127.0.0.1", port: port)
        print("bare-echo listening on 127.0.0.1:\(bound)")
        fflush(nil)
        while true { try await Task.sleep(for: .seconds(3600)) }
    }
}
