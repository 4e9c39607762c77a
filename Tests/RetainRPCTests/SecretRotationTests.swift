import Foundation
import RetainAuth
import RetainProcess
import RetainProto
import RetainRPC
import RetainWire
import Testing
import RetainClock

/// `--service-secret-file` rewritten while a real `retain-echo` runs: the new secret is in force
/// within a second, the old one for the grace period only, and a bad file changes nothing.
@Suite("secret rotation", .serialized)
struct SecretRotationTests {
    static func token(_ secretText: String) throws -> String {
        "Bearer "
            + ServiceToken(
                issuer: "test", subject: "tester", scopes: .read("echo")!,
                expiresAtMs: WallClock.nowMs() + 300_000
            ).signed(with: try ServiceSecret(secretText))
    }

    /// Echo on a fresh connection with `authorization`: the status code (OK when it went through).
    static func code(_ port: Int, _ authorization: String) async -> RPCStatusCode {
        var configuration = RPCClient.Configuration()
        configuration.credentials = StaticCredentials(authorization)
        let client = RPCClient(host: "127.0.0.1", port: port, configuration: configuration)
        defer { Task { await client.close() } }
        do {
            _ = try await client.unary(Retain_V1_Echo.echo, .init(text: "x"))
            return .ok
        } catch let error as RPCError {
            return error.code
        } catch {
            return .unknown
        }
    }

    /// Replaces the file's content atomically (write aside, rename), as operators and k8s do.
    static func replace(_ path: String, with text: String) throws {
        let aside = path + ".new"
        try Data(text.utf8).write(to: URL(fileURLWithPath: aside))
        guard rename(aside, path) == 0 else { throw CocoaError(.fileWriteUnknown) }
    }

    @Test("a new secret is in force within seconds; the old one for the grace only; a bad file is refused")
    func rotateSecretFile() async throws {
        let directory = try makeTemporaryDirectory("rotation")
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("secret").path
        let oldSecret = ServiceSecret.generateText()
        let newSecret = ServiceSecret.generateText()
        try Data(oldSecret.utf8).write(to: URL(fileURLWithPath: file))
        // Started without RETAIN_INSECURE_NO_AUTH and without RETAIN_SERVICE_SECRET: the file alone.
        let server = try ServerProcess(
            executableAt: ServerProcess.buildDirectory.appendingPathComponent("retain-echo"),
            arguments: ["--ops-port=-1", "--service-secret-file", file, "--secret-grace-ms", "6000"])
        defer { server.stop() }
        let port = server.port
        let oldToken = try Self.token(oldSecret)
        let newToken = try Self.token(newSecret)
        #expect(await Self.code(port, oldToken) == .ok)
        #expect(await Self.code(port, newToken) == .unauthenticated)

        try Self.replace(file, with: newSecret)
        var switched = false
        for _ in 0..<50 where !switched {
            try await Task.sleep(for: .milliseconds(100))
            switched = await Self.code(port, newToken) == .ok
        }
        #expect(switched, "the new secret was not in force 5 s after the file changed")
        #expect(await Self.code(port, oldToken) == .ok, "tokens of the old secret must work during the grace period")
        try await Task.sleep(for: .milliseconds(6500))
        #expect(await Self.code(port, oldToken) == .unauthenticated, "the old secret outlived its grace period")

        // A file that holds no valid secret is refused; the secret in force stays.
        try Self.replace(file, with: "short")
        try await Task.sleep(for: .milliseconds(1500))
        #expect(await Self.code(port, newToken) == .ok)
        #expect(
            await Self.code(
                port,
                "Bearer "
                    + ServiceToken(
                        issuer: "t", subject: "t", scopes: .read("echo")!,
                        expiresAtMs: WallClock.nowMs() + 60_000
                    )
                    .signed(with: try ServiceSecret(String(repeating: "s", count: 40)))) == .unauthenticated)
    }
}
