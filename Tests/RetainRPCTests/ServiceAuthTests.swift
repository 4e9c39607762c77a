import Foundation
import RetainAuth
import RetainProcess
import RetainProto
import RetainRPC
import RetainWire
import Testing
import RetainClock

/// A real `retain-echo` started with a service secret refuses calls without a valid token with
/// the right scope, while clients with one keep being served.
@Suite("service authentication over TCP", .serialized)
struct ServiceAuthTests {
    static let secretText = ServiceSecret.generateText()
    let secret = try! ServiceSecret(ServiceAuthTests.secretText)

    /// A client whose calls carry `authorization` ("" for none).
    func client(_ port: Int, _ authorization: String) -> RPCClient {
        var configuration = RPCClient.Configuration()
        if !authorization.isEmpty { configuration.credentials = StaticCredentials(authorization) }
        return RPCClient(host: "127.0.0.1", port: port, configuration: configuration)
    }

    func token(_ scopes: ScopeSet, secret: ServiceSecret? = nil, expiresInMs: Int64 = 60_000) -> String {
        "Bearer "
            + ServiceToken(
                issuer: "test", subject: "tester", scopes: scopes,
                expiresAtMs: WallClock.nowMs() + expiresInMs
            ).signed(with: secret ?? self.secret)
    }

    func expectRefused(
        _ client: RPCClient, _ code: RPCStatusCode, _ fragment: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async {
        let error = await #expect(throws: RPCError.self, sourceLocation: sourceLocation) {
            _ = try await client.unary(Retain_V1_Echo.echo, .init(text: "x"))
        }
        #expect(error?.code == code, sourceLocation: sourceLocation)
        #expect(error?.message.contains(fragment) == true, "\(error?.message ?? "") lacks \(fragment)", sourceLocation: sourceLocation)
        #expect(error?.message.contains(Self.secretText) == false, sourceLocation: sourceLocation)
    }

    @Test("no credential, a wrong one, an expired token and a wrong scope are refused; a valid client keeps being served")
    func refusals() async throws {
        let echo = try ServerProcess("retain-echo", arguments: ["--ops-port=-1"], serviceSecret: Self.secretText)
        defer { echo.stop() }
        let good = client(echo.port, token([.read("echo")!]))
        #expect(try await good.unary(Retain_V1_Echo.echo, .init(text: "a")).text == "a")

        let refused: [(String, RPCStatusCode, String)] = [
            ("", .unauthenticated, "missing credential"),
            ("Bearer v1.test.tester.echo:read.99999999999999.AAAA", .unauthenticated, "signature"),
            (token([.read("echo")!], secret: try ServiceSecret(String(repeating: "w", count: 40))), .unauthenticated, "signature"),
            (token([.read("echo")!], expiresInMs: -120_000), .unauthenticated, "expired"),
            ("ApiKey rk_whatever", .unauthenticated, "Bearer"),
            (token([.read("profile")!]), .permissionDenied, "echo:read"),
        ]
        for (authorization, code, fragment) in refused {
            let bad = client(echo.port, authorization)
            await expectRefused(bad, code, fragment)
            // The good client's connection is unaffected.
            #expect(try await good.unary(Retain_V1_Echo.echo, .init(text: "still")).text == "still")
            await bad.close()
        }

        // On one connection, a refused call does not end it, and each call's own credential counts.
        let mixed = client(echo.port, "")
        await expectRefused(mixed, .unauthenticated, "missing credential")
        let answer = try await mixed.unary(
            Retain_V1_Echo.inspect, .init(text: "i"),
            options: CallOptions(authorization: token([.admin])))
        #expect(answer.metadata["x-retain-caller"] == "test/tester admin", "the handler sees the verified caller")
        await #expect(throws: RPCError.self) {
            _ = try await mixed.unary(
                Retain_V1_Echo.echo, .init(text: "x"), options: CallOptions(authorization: self.token([.read("ledger")!])))
        }

        // Health probes stay open; reflection needs a token, of any scope.
        #expect(try await mixed.unary(Retain_V1_Health.check, .init()).status == .serving)
        await #expect(throws: RPCError.self) { _ = try await mixed.unary(Retain_V1_Reflection.listServices, .init()) }
        #expect(try await good.unary(Retain_V1_Reflection.listServices, .init()).services.contains { $0.name == "retain.v1.Echo" })
        await mixed.close()
        await good.close()
    }

    @Test("an executable without a secret refuses to start unless told to run insecure")
    func refusesToStartWithoutSecret() async throws {
        let path = ServerProcess.buildDirectory.appendingPathComponent("retain-echo")
        let error = #expect(throws: ServerProcessError.self) {
            _ = try ServerProcess(executableAt: path, arguments: ["--ops-port=-1"], timeout: .seconds(20))
        }
        #expect("\(error.map { "\($0)" } ?? "")".contains("no service secret"))
        let insecure = try ServerProcess(executableAt: path, arguments: ["--ops-port=-1", "--insecure-no-auth"])
        let anonymous = RPCClient(host: "127.0.0.1", port: insecure.port)
        #expect(try await anonymous.unary(Retain_V1_Echo.echo, .init(text: "open")).text == "open")
        await anonymous.close()
        #expect(insecure.log.contains("INSECURE"))
        insecure.stop()
    }
}
