import Foundation
import GatewayCore
import RetainAuth
import RetainProcess
import RetainProto
import RetainRPC
import RetainWire
import Testing
import RetainClock

/// A real `retain-gateway` with an API key file in front of a real `retain-echo`, both started
/// with the service secret: keys, scopes and rate limits at the gateway, tokens at the backend.
@Suite("Gateway authentication over TCP", .serialized)
struct GatewayAuthTests {
    static let secretText = ServiceSecret.generateText()

    func client(_ port: Int, _ authorization: String) -> RPCClient {
        var configuration = RPCClient.Configuration()
        if !authorization.isEmpty { configuration.credentials = StaticCredentials(authorization) }
        return RPCClient(host: "127.0.0.1", port: port, configuration: configuration)
    }

    func expectRefused(
        _ client: RPCClient, _ code: RPCStatusCode, _ fragment: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async {
        let error = await #expect(throws: RPCError.self, sourceLocation: sourceLocation) {
            _ = try await client.unary(Retain_V1_Echo.echo, .init(text: "x"))
        }
        #expect(error?.code == code, "\(error.map { "\($0)" } ?? "")", sourceLocation: sourceLocation)
        #expect(error?.message.contains(fragment) == true, "\(error?.message ?? "") lacks \(fragment)", sourceLocation: sourceLocation)
    }

    @Test("no key, a wrong key, a wrong scope and a spent rate limit are refused; a valid key reaches the backend with a token")
    func keysScopesAndLimits() async throws {
        let directory = try makeTemporaryDirectory("gateway-auth")
        defer { try? FileManager.default.removeItem(at: directory) }
        let (reader, readerEntry) = APIKeyStore.makeKey(id: "reader", scopes: [.read("echo")!, .read("gateway")!])
        let (writer, writerEntry) = APIKeyStore.makeKey(id: "writer", scopes: [.write("profile")!])
        let (limited, limitedEntry) = APIKeyStore.makeKey(
            id: "limited", scopes: [.read("echo")!],
            rateLimit: .init(perSecond: 0.5, burst: 2))
        let keysFile = directory.appendingPathComponent("api-keys.json")
        try Data("{\"keys\": [\(readerEntry.json), \(writerEntry.json), \(limitedEntry.json)]}".utf8).write(to: keysFile)

        let echo = try ServerProcess("retain-echo", arguments: ["--ops-port=-1"], serviceSecret: Self.secretText)
        defer { echo.stop() }
        let topologyFile = directory.appendingPathComponent("topology.json")
        try Topology(services: [
            Topology.Service(
                name: "retain.v1.Echo",
                instances: [
                    Topology.Instance(id: "echo-0", host: "127.0.0.1", port: echo.port)
                ])
        ]).encoded().write(to: topologyFile)
        let gateway = try ServerProcess(
            "retain-gateway",
            arguments: [
                "--topology", topologyFile.path, "--api-keys-file", keysFile.path, "--ops-port=-1", "--health-interval-ms", "200",
            ], serviceSecret: Self.secretText)
        defer { gateway.stop() }

        // A valid key's call reaches the backend, which sees a gateway token for the key's id.
        let good = client(gateway.port, "ApiKey " + reader)
        let answer = try await good.unary(Retain_V1_Echo.inspect, .init(text: "hi"))
        #expect(answer.metadata["x-retain-caller"] == "gateway/reader gateway:read,echo:read")
        #expect(try await good.unary(Retain_V1_Gateway.listBackends, .init()).backends.count == 1)

        await expectRefused(client(gateway.port, ""), .unauthenticated, "missing credential")
        await expectRefused(client(gateway.port, "ApiKey rk_not-a-key"), .unauthenticated, "unknown API key")
        await expectRefused(client(gateway.port, "ApiKey " + writer), .permissionDenied, "echo:read")
        let spender = client(gateway.port, "ApiKey " + limited)
        _ = try await spender.unary(Retain_V1_Echo.echo, .init(text: "1"))
        _ = try await spender.unary(Retain_V1_Echo.echo, .init(text: "2"))
        await expectRefused(spender, .resourceExhausted, "retry after")
        // Other callers keep being served.
        #expect(try await good.unary(Retain_V1_Echo.echo, .init(text: "ok")).text == "ok")

        // A service token is accepted by the gateway too; the backend alone refuses a caller without one.
        let minted =
            "Bearer "
            + ServiceToken(
                issuer: "svc", subject: "growth", scopes: [.read("echo")!],
                expiresAtMs: WallClock.nowMs() + 60_000
            ).signed(with: try ServiceSecret(Self.secretText))
        #expect(try await client(gateway.port, minted).unary(Retain_V1_Echo.echo, .init(text: "t")).text == "t")
        await expectRefused(client(echo.port, ""), .unauthenticated, "missing credential")
        await expectRefused(client(echo.port, "ApiKey " + reader), .unauthenticated, "Bearer")
        #expect(!gateway.log.contains(reader), "the gateway logged a key")
        await good.close()
        await spender.close()
    }
}
