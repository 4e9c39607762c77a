import Foundation
import NIOCore
import NIOPosix
import RetainProcess

/// The anchor of the read benchmark: `redis-benchmark -t get -c 50 -n 500000 -q` against a
/// redis-server started on a free loopback port without persistence.
enum RedisAnchor {
    static let server = "/usr/bin/redis-server"

    /// GETs per second, with the benchmark's own summary line; nil (and why) when Redis is missing.
    static func measure(clients: Int, requests: Int) async throws -> (rate: Double, line: String)? {
        guard FileManager.default.isExecutableFile(atPath: server),
            let benchmark = ["/usr/bin/redis-benchmark", "/usr/local/bin/redis-benchmark"]
                .first(where: { FileManager.default.isExecutableFile(atPath: $0) })
        else {
            return nil
        }
        let port = try await freePort()
        let redis = Process()
        redis.executableURL = URL(fileURLWithPath: server)
        redis.arguments = ["--port", "\(port)", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        redis.standardOutput = FileHandle.nullDevice
        redis.standardError = FileHandle.nullDevice
        try redis.run()
        defer {
            // SIGKILL: a child of this process inherits its blocked SIGTERM; nothing is persisted anyway.
            kill(redis.processIdentifier, SIGKILL)
            redis.waitForExit()
        }
        // Wait until it accepts connections.
        for _ in 0..<100 {
            if (try? await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connect(host: "127.0.0.1", port: port).get().close().get()) != nil
            {
                break
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        let run = Process()
        run.executableURL = URL(fileURLWithPath: benchmark)
        run.arguments = ["-p", "\(port)", "-t", "get", "-c", "\(clients)", "-n", "\(requests)", "-q"]
        let output = Pipe()
        run.standardOutput = output
        run.standardError = FileHandle.nullDevice
        try run.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        run.waitForExit()
        let text = String(decoding: data, as: UTF8.self)
        // -q prints progress lines ending in \r, then "GET: <rate> requests per second, p50=...".
        guard
            let line = text.split(whereSeparator: { $0 == "\r" || $0 == "\n" })
                .last(where: { $0.contains("requests per second") }),
            let rateText = line.split(separator: " ").dropFirst().first, let rate = Double(rateText)
        else {
            throw BenchError("could not read redis-benchmark's output: \(text.suffix(200))")
        }
        return (rate, line.trimmingCharacters(in: .whitespaces))
    }

    /// A port nobody listens on now (bound to port 0 and released).
    static func freePort() async throws -> Int {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).get()
        let port = channel.localAddress?.port ?? 0
        try await channel.close().get()
        return port
    }
}

/// A benchmark that cannot go on.
struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
