import ArgumentParser
import Foundation
import NIOCore
import NIOPosix
import RetainProcess

/// `retain-bench grpc-front-door`: unary Echo through the gateway's gRPC front door beside
/// grpc-swift 2's own echo server (both loaded by the same grpc-swift 2 client, `grpc-echo load`)
/// and beside the gateway's native port (loaded by `RPCClient`), one connection each, at each
/// concurrency, in one run. The front door and the native port forward to the same `retain-echo`.
struct GRPCFrontDoorBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "grpc-front-door",
        abstract: "The gateway's gRPC front door vs grpc-swift 2's own echo vs the gateway's native port.")

    @Option(help: "Seconds per measurement.") var duration: Int = 5
    @Option(help: "Concurrent calls, comma separated.") var concurrency: String = "1,16,64"
    @Option(help: "Payload bytes per message.") var payload: Int = 16
    @Option(help: "The grpc-swift 2 echo package (built in release here unless --skip-build).")
    var grpcPackage: String = "Benchmarks/GRPCEcho"
    @Flag(help: "Use the grpc-echo binary already built instead of running swift build.") var skipBuild = false

    func run() async throws {
        let levels = concurrency.split(separator: ",").compactMap { Int($0) }
        let grpcEcho = try await GRPCEchoBenchmark.buildGRPCEcho(package: grpcPackage, skipBuild: skipBuild)
        let directory = try makeTemporaryDirectory("retain-grpc-front-door-bench")
        defer { try? FileManager.default.removeItem(at: directory) }
        let anchor = try ServerProcess(executableAt: grpcEcho, arguments: ["serve"])
        let echo = try ServerProcess("retain-echo", arguments: ["--log-level", "warning"])
        let topology = directory.appendingPathComponent("topology.json")
        try Data(#"{"services": {"retain.v1.Echo": ["127.0.0.1:\#(echo.port)"]}}"#.utf8).write(to: topology)
        let frontDoorPort = try await Self.freePort()
        let gateway = try ServerProcess(
            "retain-gateway",
            arguments: [
                "--topology", topology.path, "--log-level", "warning",
                "--grpc-port", "\(frontDoorPort)",
            ])
        defer {
            gateway.stop()
            echo.stop()
            anchor.stop()
        }
        // The front door listens once the native port does; its first call below waits for it.
        try await Self.waitForPort(frontDoorPort)
        var rows: [[String]] = []
        for level in levels {
            let own = try await GRPCEchoBenchmark.grpcLoad(
                grpcEcho, port: anchor.port, payload: payload, concurrency: level, duration: duration)
            let door = try await GRPCEchoBenchmark.grpcLoad(
                grpcEcho, port: frontDoorPort, payload: payload, concurrency: level, duration: duration)
            let native = try await EchoBenchmark.runtimeLoad(port: gateway.port, payload: payload, concurrency: level, duration: duration)
            for (name, result) in [("grpc-echo", own), ("front door", door)] where result.errors > 0 {
                print("note: \(result.errors) calls to \(name) failed at concurrency \(level)")
            }
            rows.append([
                "\(level)",
                own.callsPerSecond.formatted(0), own.p50Micros.formatted(1), own.p99Micros.formatted(1),
                door.callsPerSecond.formatted(0), door.p50Micros.formatted(1), door.p99Micros.formatted(1),
                own.callsPerSecond > 0 ? "\((100 * door.callsPerSecond / own.callsPerSecond).formatted(0))%" : "-",
                native.callsPerSecond.formatted(0), native.p50.formatted(1), native.p99.formatted(1),
            ])
        }
        print("unary echo, \(payload)-byte payload, one connection, \(duration) s each, clients and servers on this machine")
        print("grpc-echo: grpc-swift 2's own server answering in process; front door: the gateway's gRPC port, forwarding to retain-echo")
        print("(both loaded by grpc-echo load, a grpc-swift 2 GRPCClient); native: the gateway's Retain port, RPCClient, same retain-echo")
        printTable(
            [
                "concurrency", "grpc-echo calls/s", "p50 us", "p99 us", "front door calls/s", "p50 us", "p99 us",
                "front door/grpc-echo", "native calls/s", "p50 us", "p99 us",
            ], rows)
    }

    /// A TCP port on 127.0.0.1 nothing listens on (at the time of the call).
    static func freePort() async throws -> Int {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).get()
        let port = channel.localAddress?.port ?? 0
        try await channel.close()
        return port
    }

    /// Waits until something accepts connections on `port` (10 s at most).
    static func waitForPort(_ port: Int) async throws {
        let until = ContinuousClock.now + .seconds(10)
        while true {
            do {
                let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                    .connect(host: "127.0.0.1", port: port).get()
                try await channel.close()
                return
            } catch {
                guard ContinuousClock.now < until else { throw ValidationError("nothing listens on port \(port): \(error)") }
                try await Task.sleep(for: .milliseconds(50))
            }
        }
    }
}
