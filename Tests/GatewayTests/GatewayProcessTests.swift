import Foundation
import GatewayCore
import RetainProcess
import RetainProto
import RetainRPC
import RetainServiceKit
import RetainWire
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A real `retain-gateway` in front of real `retain-echo` processes, over TCP on loopback.
@Suite("Gateway over TCP", .serialized)
struct GatewayProcessTests {
    /// Starts a gateway whose topology names `echoes` as the Echo service.
    private func gateway(_ echoes: [ServerProcess], failover: Bool = false, extra: [String] = []) throws -> (ServerProcess, URL) {
        let directory = try makeTemporaryDirectory("gateway-test")
        let topology = Topology(services: [
            Topology.Service(
                name: "retain.v1.Echo",
                instances: echoes.enumerated().map { Topology.Instance(id: "echo-\($0.offset)", host: "127.0.0.1", port: $0.element.port) },
                userFailover: failover)
        ])
        let file = directory.appendingPathComponent("topology.json")
        try topology.encoded().write(to: file)
        let process = try ServerProcess("retain-gateway", arguments: ["--topology", file.path, "--health-interval-ms", "200"] + extra)
        return (process, directory)
    }

    @Test("any Echo method is forwarded: unary, streaming, a failure's status, and an unknown service is UNIMPLEMENTED")
    func forwarding() async throws {
        let echo = try ServerProcess("retain-echo")
        let (gateway, directory) = try gateway([echo])
        defer { try? FileManager.default.removeItem(at: directory) }
        let client = RPCClient(host: "127.0.0.1", port: gateway.port)
        let big = (0..<50_000).map { UInt8($0 % 251) }
        let answer = try await client.unary(Retain_V1_Echo.echo, .init(text: "héllo", payload: big))
        #expect(answer.text == "héllo" && answer.payload == big)
        var streamed: [UInt32] = []
        for try await message in client.serverStreaming(Retain_V1_Echo.expand, .init(text: "x", count: 5, intervalMs: 10)) {
            streamed.append(message.index)
        }
        #expect(streamed == [0, 1, 2, 3, 4])
        await #expect(throws: RPCError(.failedPrecondition, "no such thing", details: [:])) {
            _ = try await client.unary(Retain_V1_Echo.fail, .init(code: 9, message: "no such thing"))
        }
        await #expect {
            _ = try await client.unary(Retain_V1_Profile.getProfile, .init(userId: "u1"))
        } throws: { error in
            (error as? RPCError)?.code == .unimplemented && "\(error)".contains("retain.v1.Profile")
        }
        // The gateway's own methods answer too.
        let backends = try await client.unary(Retain_V1_Gateway.listBackends, .init())
        #expect(backends.backends.map(\.instanceId) == ["echo-0"])
        #expect(backends.backends.first?.calls ?? 0 >= 3)
        await client.close()
        #expect(gateway.stop() == 0)
        echo.stop()
    }

    @Test("user-keyed calls land on the user's owner among two instances, as LocateUser says")
    func userKeyedRouting() async throws {
        let echoes = [try ServerProcess("retain-echo"), try ServerProcess("retain-echo")]
        let (gateway, directory) = try gateway(echoes)
        defer { try? FileManager.default.removeItem(at: directory) }
        let client = RPCClient(host: "127.0.0.1", port: gateway.port)
        let pidOfInstance = ["echo-0": echoes[0].process.processIdentifier, "echo-1": echoes[1].process.processIdentifier]
        var owners: [String: Int] = [:]
        for index in 0..<40 {
            let user = "user-\(index)"
            let located = try await client.unary(Retain_V1_Gateway.locateUser, .init(userId: user, service: "Echo"))
            let owner = try #require(located.owner?.instanceId)
            #expect(located.fallbacks.map(\.instanceId) == [owner == "echo-0" ? "echo-1" : "echo-0"])
            for _ in 0..<2 {
                let seen = try await client.unary(Retain_V1_Echo.inspect, .init(userId: user, text: "t"))
                #expect(seen.pid == pidOfInstance[owner], "user \(user) answered by pid \(seen.pid), owner \(owner)")
            }
            owners[owner, default: 0] += 1
        }
        #expect(owners.count == 2, "40 users all on one instance: \(owners)")
        await #expect(throws: RPCError.notFound("service in the gateway's topology", "retain.v1.Ledger")) {
            _ = try await client.unary(Retain_V1_Gateway.locateUser, .init(userId: "u", service: "retain.v1.Ledger"))
        }
        // A malformed user id or an oversized service name is refused, naming the field.
        await #expect(
            throws: RPCError.invalidArgument(field: "user_id", "must be 1 to 128 bytes of ASCII letters, digits, '.', '_', '-' or '@'")
        ) {
            _ = try await client.unary(Retain_V1_Gateway.locateUser, .init(userId: "no spaces", service: "Echo"))
        }
        await #expect(throws: RPCError.invalidArgument(field: "service", "is longer than 128 bytes")) {
            _ = try await client.unary(Retain_V1_Gateway.locateUser, .init(userId: "u", service: String(repeating: "S", count: 1 << 20)))
        }
        await client.close()
        gateway.stop()
        for echo in echoes { echo.stop() }
    }

    @Test("a killed backend leaves the rotation within a few health checks, and calls keep succeeding on the other")
    func healthEviction() async throws {
        let echoes = [try ServerProcess("retain-echo"), try ServerProcess("retain-echo")]
        let (gateway, directory) = try gateway(echoes)
        defer { try? FileManager.default.removeItem(at: directory) }
        let client = RPCClient(host: "127.0.0.1", port: gateway.port)
        try await waitUntil {
            try await client.unary(Retain_V1_Gateway.listBackends, .init()).backends.allSatisfy { $0.status == .serving }
        }
        echoes[1].kill()
        // Calls never fail: one that hits the dead instance is refused before processing and retried.
        for index in 0..<50 {
            #expect(try await client.unary(Retain_V1_Echo.echo, .init(text: "\(index)")).text == "\(index)")
        }
        try await waitUntil {
            let backends = try await client.unary(Retain_V1_Gateway.listBackends, .init()).backends
            // Out of rotation, and confirmed by a failed health check (not only by a failed call).
            let dead = backends.first { $0.instanceId == "echo-1" }
            return dead?.inRotation == false && (dead?.consecutiveFailures ?? 0) >= 1
        }
        let dead = try #require(try await client.unary(Retain_V1_Gateway.listBackends, .init(service: "Echo")).backends.last)
        #expect(dead.status == .notServing && dead.consecutiveFailures >= 1 && !dead.lastError.isEmpty)
        // The gateway's Health reports the service SERVING while one instance is.
        let health = try await client.unary(Retain_V1_Health.check, .init(service: "retain.v1.Echo"))
        #expect(health.status == .serving)
        echoes[0].kill()
        try await waitUntil {
            try await client.unary(Retain_V1_Health.check, .init(service: "retain.v1.Echo")).status == .notServing
        }
        await #expect {
            _ = try await client.unary(Retain_V1_Echo.echo, .init(text: "x"))
        } throws: { ($0 as? RPCError)?.code == .unavailable }
        await client.close()
        gateway.stop()
    }

    @Test("deadlines pass on shortened, and the trace id, idempotency key and metadata pass through")
    func deadlinePropagation() async throws {
        let echo = try ServerProcess("retain-echo")
        let (gateway, directory) = try gateway([echo])
        defer { try? FileManager.default.removeItem(at: directory) }
        let client = RPCClient(host: "127.0.0.1", port: gateway.port)
        let seen = try await client.unary(
            Retain_V1_Echo.inspect, .init(userId: "u", text: "t"),
            options: CallOptions(
                timeout: .seconds(2), traceID: "trace-1", idempotencyKey: "key-1", metadata: ["tenant": "acme"]))
        #expect(seen.deadlineRemainingUs > 1_000_000 && seen.deadlineRemainingUs < 2_000_000)
        #expect(seen.traceId == "trace-1" && seen.idempotencyKey == "key-1" && seen.metadata == ["tenant": "acme"])
        // Without a trace id the gateway makes one up; without a deadline it gives its default.
        let bare = try await client.unary(Retain_V1_Echo.inspect, .init(userId: "u"))
        #expect(bare.traceId.count == 32)
        // Made-up ids are 32 lower-case hex digits (W3C trace context), a new one per call.
        let again = try await client.unary(Retain_V1_Echo.inspect, .init(userId: "u"))
        #expect(bare.traceId.allSatisfy { "0123456789abcdef".contains($0) })
        #expect(again.traceId.count == 32 && again.traceId != bare.traceId)
        #expect(bare.deadlineRemainingUs > 25_000_000 && bare.deadlineRemainingUs <= 30_000_000)
        // A deadline shorter than the work ends the call, at the gateway and at the backend.
        let started = ContinuousClock.now
        await #expect {
            _ = try await client.unary(Retain_V1_Echo.sleep, .init(durationMs: 3000), options: CallOptions(timeout: .milliseconds(300)))
        } throws: { ($0 as? RPCError)?.code == .deadlineExceeded }
        // Well before the 3 s of work: the deadline, not the sleep, ended the call.
        #expect(ContinuousClock.now - started < .milliseconds(2_500))
        await client.close()
        gateway.stop()
        echo.stop()
    }

    @Test("ops endpoints: /healthz, /readyz, and /metrics with the RPC counters after a call; /readyz 503 while draining")
    func opsEndpoints() async throws {
        let echo = try ServerProcess("retain-echo")
        let (gateway, directory) = try gateway([echo])
        defer { try? FileManager.default.removeItem(at: directory) }
        let gatewayOps = try #require(gateway.opsPort)
        let echoOps = try #require(echo.opsPort)
        #expect(try await OpsProbe.get(port: gatewayOps, path: "/healthz").status == 200)
        #expect(try await OpsProbe.get(port: gatewayOps, path: "/readyz").body == "ready\n")
        #expect(try await OpsProbe.get(port: gatewayOps, path: "/nope").status == 404)
        let client = RPCClient(host: "127.0.0.1", port: gateway.port)
        _ = try await client.unary(Retain_V1_Echo.echo, .init(text: "count me"))
        let metrics = try await OpsProbe.get(port: gatewayOps, path: "/metrics")
        #expect(metrics.status == 200)
        #expect(metrics.body.contains(#"rpc_server_handled_total{method="retain.v1.Echo/Echo",code="OK"} 1"#))
        #expect(metrics.body.contains(#"gateway_backend_calls_total{service="retain.v1.Echo",instance="echo-0",code="OK"}"#))
        let echoMetrics = try await OpsProbe.get(port: echoOps, path: "/metrics").body
        #expect(echoMetrics.contains(#"rpc_server_handled_total{method="retain.v1.Echo/Echo",code="OK"} 1"#))
        #expect(echoMetrics.contains("rpc_server_handling_seconds_bucket"))
        // A call in flight keeps the gateway draining after SIGTERM: not ready, still alive.
        let slow = Task { try await client.unary(Retain_V1_Echo.sleep, .init(durationMs: 1500, text: "slow")) }
        try await Task.sleep(for: .milliseconds(200))
        kill(gateway.process.processIdentifier, SIGTERM)
        try await waitUntil { try await OpsProbe.get(port: gatewayOps, path: "/readyz").status == 503 }
        #expect(try await OpsProbe.get(port: gatewayOps, path: "/healthz").status == 200)
        #expect(try await slow.value.text == "slow")
        #expect(gateway.stop() == 0)
        await client.close()
        echo.stop()
    }

    /// Polls `condition` every 100 ms for up to `timeout`.
    private func waitUntil(timeout: Duration = .seconds(10), _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if (try? await condition()) == true { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("condition not met within \(timeout)")
    }
}
