import Foundation
import RetainProcess
import RetainProto
import RetainRPC
import RetainServiceKit
import RetainWire
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `retain up`: the whole suite (whatever of it is built) as child processes.
@Suite("retain up", .serialized)
struct LauncherTests {
    @Test("starts what is built, restarts a crashed gateway, and stops everything on SIGTERM")
    func upRestartStop() async throws {
        let data = try makeTemporaryDirectory("retain-up")
        defer { try? FileManager.default.removeItem(at: data) }
        let ports = try freePorts(13)
        let names = ["gateway", "profile", "growth", "ledger", "feedback"]
        var arguments = [
            "up", "--data-dir", data.path, "--stop-timeout", "5", "--gateway-grpc-port", String(ports[10]), "--console-port",
            String(ports[11]), "--console-ops-port", String(ports[12]),
        ]
        for (index, name) in names.enumerated() {
            arguments += ["--\(name)-port", String(ports[index]), "--\(name)-ops-port", String(ports[index + 5])]
        }
        let process = Process()
        process.executableURL = ServerProcess.buildDirectory.appendingPathComponent("retain")
        process.arguments = arguments
        let output = OutputCollector()
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        pipe.fileHandleForReading.readabilityHandler = { handle in output.append(handle.availableData) }
        try process.run()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }

        try await output.waitFor("retain up: ready", timeout: .seconds(90))
        let text = output.text
        #expect(text.contains("the gateway also speaks standard gRPC on 127.0.0.1:\(ports[10])"))
        // Each service is either running (a row of the table) or skipped with a warning.
        for name in names.dropFirst() {
            #expect(
                text.contains("retain-\(name) is not built") || text.contains("\nretain-\(name) "), "\(name) neither ran nor was skipped")
        }
        let running = names.dropFirst().filter { name in text.contains("\nretain-\(name) ") }
        let gatewayPID = try #require(pid(of: "retain-gateway", in: text))

        // `retain up` made an admin key; the gateway answers it, and refuses a caller without one.
        let adminKey = try String(contentsOf: data.appendingPathComponent("secrets/admin.key"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let attributes = try FileManager.default.attributesOfItem(atPath: data.appendingPathComponent("secrets/service-secret").path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        var configuration = RPCClient.Configuration()
        configuration.credentials = StaticCredentials("ApiKey " + adminKey)
        let client = RPCClient(host: "127.0.0.1", port: ports[0], configuration: configuration)
        let anonymous = RPCClient(host: "127.0.0.1", port: ports[0])
        await #expect(throws: RPCError.self) { _ = try await anonymous.unary(Retain_V1_Gateway.listBackends, .init()) }
        await anonymous.close()
        #expect(try await client.unary(Retain_V1_Health.check, .init()).status == .serving)
        let backends = try await client.unary(Retain_V1_Gateway.listBackends, .init())
        #expect(Set(backends.backends.map(\.instanceId)) == Set(running.map { "\($0)-0" }))
        #expect(try await OpsProbe.get(port: ports[5], path: "/readyz").status == 200)
        #expect(FileManager.default.fileExists(atPath: data.appendingPathComponent("gateway/topology.json").path))
        // The console runs beside the gateway (when built), ready on its ops port.
        if !text.contains("retain-console is not built") {
            #expect(text.contains("the operations console is at http://127.0.0.1:\(ports[11])/"))
            #expect(try await OpsProbe.get(port: ports[12], path: "/readyz").status == 200)
        }
        for name in running {
            #expect(FileManager.default.fileExists(atPath: data.appendingPathComponent(name).path))
        }

        // A crash is restarted.
        kill(gatewayPID, SIGKILL)
        try await output.waitFor("retain-gateway restarted", timeout: .seconds(30))
        #expect(try await client.unary(Retain_V1_Health.check, .init()).status == .serving)
        let newPID = try #require(pid(restartedIn: output.text))
        #expect(newPID != gatewayPID)

        // SIGTERM stops every child gracefully, then the launcher exits 0.
        kill(process.processIdentifier, SIGTERM)
        let deadline = ContinuousClock.now + .seconds(30)
        while process.isRunning, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(100)) }
        #expect(!process.isRunning)
        #expect(process.terminationStatus == 0)
        #expect(output.text.contains("retain up: all stopped"))
        #expect(output.text.contains("retain-gateway stopped"))
        #expect(kill(newPID, 0) != 0, "the restarted gateway still runs")
        await client.close()
    }

    /// The pid in the table row of `executable`.
    private func pid(of executable: String, in text: String) -> Int32? {
        text.split(separator: "\n").first { $0.hasPrefix(executable + " ") }
            .flatMap { $0.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first }
            .flatMap { Int32($0) }
    }

    /// The pid of the restarted gateway: "retain-gateway restarted (pid N)".
    private func pid(restartedIn text: String) -> Int32? {
        guard let line = text.split(separator: "\n").last(where: { $0.contains("retain-gateway restarted (pid ") }) else { return nil }
        return Int32(line.split(separator: " ").last!.dropLast())
    }

    /// Ports that were free a moment ago (bound to port 0 and released).
    private func freePorts(_ count: Int) throws -> [Int] {
        var sockets: [Int32] = []
        defer { sockets.forEach { close($0) } }
        var ports: [Int] = []
        for _ in 0..<count {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = 0
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
            _ = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
            }
            sockets.append(fd)
            ports.append(Int(UInt16(bigEndian: address.sin_port)))
        }
        return ports
    }
}

/// Collects a child's output as it arrives.
final class OutputCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()

    func append(_ chunk: Data) { lock.withLock { data.append(chunk) } }

    var text: String { lock.withLock { String(decoding: data, as: UTF8.self) } }

    /// Waits until the output contains `marker`.
    func waitFor(_ marker: String, timeout: Duration) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if text.contains(marker) { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("no '\(marker)' within \(timeout); output:\n\(text)")
        throw CancellationError()
    }
}
