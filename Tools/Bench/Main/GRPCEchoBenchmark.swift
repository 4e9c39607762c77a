import ArgumentParser
import Dispatch
import Foundation
import RetainProcess

/// `retain-bench grpc-echo`: the RPC runtime's unary Echo (`retain-echo`, loaded by `RPCClient`)
/// beside the same Echo on grpc-swift 2 over HTTP/2 (`grpc-echo` from the separate package
/// `Benchmarks/GRPCEcho`, loaded by its own `GRPCClient`), each on one connection on loopback,
/// with the same payload, concurrency and duration, one after the other in one run.
struct GRPCEchoBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "grpc-echo", abstract: "RPC runtime echo vs the same echo on grpc-swift 2 over HTTP/2.")

    @Option(help: "Seconds per measurement.") var duration: Int = 5
    @Option(help: "Concurrent calls, comma separated.") var concurrency: String = "1,16,64"
    @Option(help: "Payload bytes per message.") var payload: Int = 16
    @Option(help: "The grpc-swift 2 echo package (built in release here unless --skip-build).")
    var grpcPackage: String = "Benchmarks/GRPCEcho"
    @Flag(help: "Use the grpc-echo binary already built instead of running swift build.") var skipBuild = false

    func run() async throws {
        let levels = concurrency.split(separator: ",").compactMap { Int($0) }
        let grpcEcho = try await Self.buildGRPCEcho(package: grpcPackage, skipBuild: skipBuild)
        let grpc = try ServerProcess(executableAt: grpcEcho, arguments: ["serve"])
        let runtime = try ServerProcess("retain-echo", arguments: ["--log-level", "warning"])
        defer {
            grpc.stop()
            runtime.stop()
        }
        var rows: [[String]] = []
        for level in levels {
            let ours = try await EchoBenchmark.runtimeLoad(port: runtime.port, payload: payload, concurrency: level, duration: duration)
            let theirs = try await Self.grpcLoad(grpcEcho, port: grpc.port, payload: payload, concurrency: level, duration: duration)
            if theirs.errors > 0 { print("note: \(theirs.errors) gRPC calls failed at concurrency \(level)") }
            rows.append([
                "\(level)",
                theirs.callsPerSecond.formatted(0), theirs.p50Micros.formatted(1), theirs.p99Micros.formatted(1),
                ours.callsPerSecond.formatted(0), ours.p50.formatted(1), ours.p99.formatted(1),
                theirs.callsPerSecond > 0 ? "\((ours.callsPerSecond / theirs.callsPerSecond).formatted(2))x" : "-",
            ])
        }
        print("unary echo, \(payload)-byte payload, one connection, \(duration) s each, client and server on this machine")
        print("gRPC: grpc-swift 2.4.3 + grpc-swift-nio-transport 2.9.2, HTTP/2 plaintext, GRPCClient in its own process")
        print("Retain: retain-echo, RPCClient in retain-bench")
        printTable(
            [
                "concurrency", "gRPC calls/s", "gRPC p50 us", "gRPC p99 us",
                "Retain calls/s", "Retain p50 us", "Retain p99 us", "Retain/gRPC calls/s",
            ], rows)
    }

    /// What `grpc-echo load --json` prints.
    struct GRPCLoadResult: Decodable {
        let calls: Int
        let errors: Int
        let callsPerSecond: Double
        let p50Micros: Double
        let p99Micros: Double
    }

    /// Runs `grpc-echo load` against `port` and reads its JSON line.
    static func grpcLoad(_ executable: URL, port: Int, payload: Int, concurrency: Int, duration: Int) async throws -> GRPCLoadResult {
        let output = try await runProcess(
            executable,
            [
                "load", "--port", "\(port)", "--concurrency", "\(concurrency)",
                "--duration", "\(duration)", "--payload", "\(payload)", "--json",
            ])
        guard let line = output.split(separator: "\n").last(where: { $0.hasPrefix("{") }) else {
            throw ValidationError("grpc-echo load printed no JSON: \(output)")
        }
        return try JSONDecoder().decode(GRPCLoadResult.self, from: Data(line.utf8))
    }

    /// Builds the grpc-echo package in release (a no-op when up to date) and returns its binary.
    static func buildGRPCEcho(package: String, skipBuild: Bool) async throws -> URL {
        let packageURL = URL(fileURLWithPath: package).standardizedFileURL
        guard FileManager.default.fileExists(atPath: packageURL.appendingPathComponent("Package.swift").path) else {
            throw ValidationError("no Package.swift in \(packageURL.path): run from the repository root or pass --grpc-package")
        }
        let swift = URL(fileURLWithPath: "/usr/bin/env")
        let common = ["swift", "build", "-c", "release", "--package-path", packageURL.path, "--product", "grpc-echo"]
        if !skipBuild {
            FileHandle.standardError.write(Data("building \(packageURL.path) (release)...\n".utf8))
            _ = try await runProcess(swift, common, forwardOutput: true)
        }
        let binPath = try await runProcess(swift, common + ["--show-bin-path"]).trimmingCharacters(in: .whitespacesAndNewlines)
        return URL(fileURLWithPath: binPath).appendingPathComponent("grpc-echo")
    }

    /// Runs a child process to its end; returns its standard output (or forwards it to standard
    /// error), and throws when it fails.
    static func runProcess(_ executable: URL, _ arguments: [String], forwardOutput: Bool = false) async throws -> String {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                do {
                    let process = Process()
                    process.executableURL = executable
                    process.arguments = arguments
                    let pipe = Pipe()
                    process.standardOutput = forwardOutput ? FileHandle.standardError : pipe
                    try process.run()
                    let data = forwardOutput ? Data() : pipe.fileHandleForReading.readDataToEndOfFile()
                    process.waitForExit()
                    let text = String(decoding: data, as: UTF8.self)
                    guard process.terminationStatus == 0 else {
                        throw ValidationError(
                            "\(executable.lastPathComponent) \(arguments.joined(separator: " ")) "
                                + "exited with \(process.terminationStatus)\n\(text)")
                    }
                    continuation.resume(returning: text)
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }
}
