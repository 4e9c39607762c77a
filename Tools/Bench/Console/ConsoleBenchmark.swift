package import ArgumentParser
import Foundation
import GatewayCore
import RetainProcess
import RetainProto
import RetainRPC

#if canImport(Glibc)
import Glibc
#endif

/// `retain-bench console`: the Overview page of `retain-console` at N users (default 1M): time
/// to first byte and to the whole page (its SVG charts included: they are in the HTML), p50 and
/// p99 of sequential loads by one signed-in operator.
///
/// It starts the real executables (the four services, the gateway and the console, credential
/// checks off but for the console's own sign-in), registers the users straight into Profile
/// over 60 days on five channels with activity on days 1 and 7 or 30 (as `retain-bench
/// cluster`), signs in over HTTP and loads the page with a plain blocking socket, so the
/// figures hold the console's work and the gateway calls behind it, not a browser's.
package struct ConsoleBenchmark: AsyncParsableCommand {
    package static let configuration = CommandConfiguration(
        commandName: "console",
        abstract: "Time to first byte and full load of retain-console's Overview page at N users (p50/p99).")

    @Option(help: "Users registered.") var users: Int = 1_000_000
    @Option(help: "Sequential page loads measured (after 3 warm-up loads).") var loads: Int = 50
    @Option(help: "Calls in flight while loading users.") var concurrency: Int = 64

    package init() {}

    static let day: Int64 = 86_400_000
    static let channels = ["organic", "paid_ads", "social", "app_store", "referral"]

    package func run() async throws {
        let directory = try makeTemporaryDirectory("retain-console-bench")
        defer { try? FileManager.default.removeItem(at: directory) }
        var processes: [ServerProcess] = []
        defer { for process in processes.reversed() { _ = process.stop() } }
        var topology: [Topology.Service] = []
        for name in ["profile", "growth", "ledger", "feedback"] {
            let data = directory.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
            let process = try ServerProcess(
                "retain-\(name)",
                arguments: ["--data-dir", data.path, "--durability", "interval:20", "--log-level", "warning", "--ops-port=-1"])
            processes.append(process)
            let service = "retain.v1.\(name.prefix(1).uppercased())\(name.dropFirst())"
            topology.append(.init(name: service, instances: [.init(id: "\(name)-0", host: "127.0.0.1", port: process.port)]))
        }
        let topologyFile = directory.appendingPathComponent("topology.json")
        try Topology(services: topology).encoded().write(to: topologyFile)
        let gateway = try ServerProcess(
            "retain-gateway", arguments: ["--topology", topologyFile.path, "--log-level", "warning", "--ops-port=-1"])
        processes.append(gateway)
        // The console checks sign-in against a key file even when the suite checks nothing.
        let key = "rk_console_bench_" + String(UInt64.random(in: 0...UInt64.max), radix: 36)
        let keysFile = directory.appendingPathComponent("api-keys.json")
        try Data("{\"keys\": [{\"id\": \"bench\", \"sha256\": \"\(Self.sha256Hex(key))\", \"scopes\": [\"admin\"]}]}".utf8).write(
            to: keysFile)
        let console = try ServerProcess(
            "retain-console",
            arguments: [
                "serve", "--gateway", "127.0.0.1:\(gateway.port)", "--api-keys-file", keysFile.path, "--log-level", "warning",
                "--ops-port=-1",
            ])
        processes.append(console)

        let today = Int64(Date().timeIntervalSince1970 * 1000) / Self.day * Self.day
        let base = today - 60 * Self.day
        print("retain-bench console: \(users) users registered over 60 days on \(Self.channels.count) channels; loopback")
        let loadStart = ContinuousClock.now
        try await load(profilePort: processes[0].port, base: base)
        print("loaded in \(String(format: "%.1f", Double((ContinuousClock.now - loadStart) / .milliseconds(1)) / 1000)) s")

        let cookie = try Self.signIn(port: console.port, key: key)
        for _ in 0..<3 { _ = try Self.get(port: console.port, path: "/overview?days=60", cookie: cookie) }
        var firstByte: [Double] = []
        var full: [Double] = []
        var size = 0
        for _ in 0..<loads {
            let timing = try Self.get(port: console.port, path: "/overview?days=60", cookie: cookie)
            firstByte.append(timing.firstByteMs)
            full.append(timing.fullMs)
            size = timing.bytes
        }
        firstByte.sort()
        full.sort()
        func percentile(_ values: [Double], _ p: Int) -> String {
            String(format: "%.1f", values[min(values.count - 1, values.count * p / 100)])
        }
        print("Overview (60 daily cohorts by channel, 6 stage counts, churn warnings, total), \(loads) sequential loads, \(size) bytes:")
        print("  time to first byte  p50 \(percentile(firstByte, 50)) ms  p99 \(percentile(firstByte, 99)) ms")
        print("  whole page          p50 \(percentile(full, 50)) ms  p99 \(percentile(full, 99)) ms")
    }

    /// Registers the users and their activity straight into Profile.
    private func load(profilePort: Int, base: Int64) async throws {
        let client = RPCClient(host: "127.0.0.1", port: profilePort)
        let users = users
        let concurrency = concurrency
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<concurrency {
                group.addTask {
                    var user = worker
                    while user < users {
                        let id = String(format: "cu%07d", user)
                        let registered = base + Int64(user % 60) * Self.day + Int64(user % 86_400) * 1000
                        _ = try await client.unary(
                            Retain_V1_Profile.registerUser,
                            .init(userId: id, channel: Self.channels[user % Self.channels.count], registeredAtMs: registered))
                        user += concurrency
                    }
                }
            }
            try await group.waitForAll()
        }
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        var events: [Retain_V1_ActivityEvent] = []
        for user in 0..<users where user % 4 != 0 {
            let id = String(format: "cu%07d", user)
            let registered = base + Int64(user % 60) * Self.day + Int64(user % 86_400) * 1000
            for day in [1, user % 3 == 0 ? 30 : 7] {
                let at = registered + Int64(day) * Self.day
                if at < now { events.append(.init(userId: id, eventId: "d\(day)", kind: "login", occurredAtMs: at)) }
            }
            if events.count >= 5000 {
                _ = try await client.unary(Retain_V1_Profile.recordActivities, .init(events: events))
                events.removeAll(keepingCapacity: true)
            }
        }
        if !events.isEmpty { _ = try await client.unary(Retain_V1_Profile.recordActivities, .init(events: events)) }
        await client.close()
    }

    /// The SHA-256 of `key` in hex, from `sha256sum` (no crypto library in this target).
    static func sha256Hex(_ key: String) -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try? process.run()
        input.fileHandleForWriting.write(Data(key.utf8))
        try? input.fileHandleForWriting.close()
        process.waitForExit()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        return String(text.prefix(64))
    }

    struct Timing {
        var firstByteMs: Double
        var fullMs: Double
        var bytes: Int
        var head: String
    }

    /// Signs in; returns the `Cookie` header value.
    static func signIn(port: Int, key: String) throws -> String {
        let body = "api_key=\(key)"
        let timing = try exchange(
            port: port,
            request:
                "POST /signin HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)"
        )
        guard let line = timing.head.split(separator: "\r\n").first(where: { $0.lowercased().hasPrefix("set-cookie:") }),
            let value = line.split(separator: ":", maxSplits: 1).last?.split(separator: ";").first
        else {
            throw ValidationError("sign-in failed: \(timing.head)")
        }
        return value.trimmingCharacters(in: .whitespaces)
    }

    /// One GET on a new connection.
    static func get(port: Int, path: String, cookie: String) throws -> Timing {
        let timing = try exchange(
            port: port, request: "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: \(cookie)\r\nConnection: close\r\n\r\n")
        guard timing.head.hasPrefix("HTTP/1.1 200") else { throw ValidationError("GET \(path): \(timing.head.prefix(200))") }
        return timing
    }

    /// Sends `request` on a new loopback connection and reads the answer to its end (the server
    /// closes the connection), timing the first byte and the last.
    static func exchange(port: Int, request: String) throws -> Timing {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw ValidationError("socket failed") }
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw ValidationError("connect failed") }
        let start = ContinuousClock.now
        let bytes = Array(request.utf8)
        var sent = 0
        while sent < bytes.count {
            let written = bytes[sent...].withUnsafeBytes { send(socket, $0.baseAddress, $0.count, 0) }
            guard written > 0 else { throw ValidationError("send failed") }
            sent += written
        }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        var first: ContinuousClock.Instant?
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
            if count <= 0 { break }
            if first == nil { first = ContinuousClock.now }
            received.append(contentsOf: buffer[0..<count])
        }
        let end = ContinuousClock.now
        func ms(_ duration: Duration) -> Double { Double(duration / .microseconds(1)) / 1000 }
        let text = String(decoding: received, as: UTF8.self)
        let head = text.components(separatedBy: "\r\n\r\n").first ?? ""
        return Timing(firstByteMs: ms((first ?? end) - start), fullMs: ms(end - start), bytes: received.count, head: head)
    }
}
