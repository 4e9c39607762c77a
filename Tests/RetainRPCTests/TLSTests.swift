import Foundation
import Logging
import NIOCore
import RetainProcess
import RetainProto
import RetainRPC
import RetainTestSupport
import RetainWire
import Testing

/// TLS and mutual TLS against a real `retain-echo` process over TCP, with certificates made by
/// `openssl` at test time.
@Suite("TLS over TCP", .serialized)
struct TLSTests {
    let certificates: TestCertificates

    init() throws {
        certificates = try TestCertificates.shared()
    }

    /// `retain-echo` serving TLS, mutual when `clientCA` is given.
    private func tlsEcho(clientCA: String? = nil, named: Bool = false) throws -> ServerProcess {
        try ServerProcess(
            "retain-echo",
            arguments: [
                "--tls-cert-file", named ? certificates.namedServerCertificateFile : certificates.serverCertificateFile,
                "--tls-key-file", named ? certificates.namedServerKeyFile : certificates.serverKeyFile,
            ] + (clientCA.map { ["--tls-client-ca-file", $0] } ?? []))
    }

    private func client(port: Int, host: String = "127.0.0.1", _ tls: ClientTLS?) -> RPCClient {
        var configuration = RPCClient.Configuration()
        configuration.tls = tls
        return RPCClient(host: host, port: port, configuration: configuration)
    }

    /// Expects `call` to fail with UNAVAILABLE whose message contains `fragment`, within 5 s.
    private func expectUnavailable(
        containing fragment: String? = nil, _ call: () async throws -> Void,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async {
        let started = ContinuousClock.now
        do {
            try await call()
            Issue.record("the call succeeded", sourceLocation: sourceLocation)
        } catch let error as RPCError {
            #expect(error.code == .unavailable, "\(error)", sourceLocation: sourceLocation)
            if let fragment {
                #expect(error.message.contains(fragment), "\(error)", sourceLocation: sourceLocation)
            }
        } catch {
            Issue.record("not an RPCError: \(error)", sourceLocation: sourceLocation)
        }
        #expect(ContinuousClock.now - started < .seconds(5), "the failure took too long", sourceLocation: sourceLocation)
    }

    @Test("over TLS, unary and streaming calls work by IP address or by name, and a server from an untrusted CA is refused")
    func tlsCalls() async throws {
        let server = try tlsEcho()
        let client = client(port: server.port, try ClientTLS(caFile: certificates.caFile))
        let big = (0..<100_000).map { UInt8($0 % 251) }
        let answer = try await client.unary(Retain_V1_Echo.echo, .init(text: "héllo", payload: big))
        #expect(answer.text == "héllo" && answer.payload == big)
        var streamed: [UInt32] = []
        for try await message in client.serverStreaming(Retain_V1_Echo.expand, .init(text: "x", count: 4, intervalMs: 5)) {
            streamed.append(message.index)
        }
        #expect(streamed == [0, 1, 2, 3])
        await client.close()

        // The certificate's DNS name, checked instead of the IP address.
        let byName = self.client(port: server.port, try ClientTLS(caFile: certificates.caFile, serverHostname: "localhost"))
        #expect(try await byName.unary(Retain_V1_Echo.echo, .init(text: "by name")).text == "by name")
        await byName.close()

        // A CA that did not sign the certificate is refused.
        let untrusting = self.client(port: server.port, try ClientTLS(caFile: certificates.otherCAFile))
        await expectUnavailable(containing: "TLS handshake") {
            _ = try await untrusting.unary(Retain_V1_Echo.echo, .init(text: "x"))
        }
        await untrusting.close()
        #expect(server.stop() == 0)
    }

    @Test("the server's certificate must hold the expected name: a certificate for another name is refused")
    func serverNameVerification() async throws {
        let server = try tlsEcho(named: true)
        let named = client(port: server.port, try ClientTLS(caFile: certificates.caFile, serverHostname: "echo.retain.test"))
        #expect(try await named.unary(Retain_V1_Echo.echo, .init(text: "by name")).text == "by name")
        await named.close()
        for name in ["elsewhere.retain.test", nil] {
            // Another name, or the IP address connected to, which the certificate does not hold.
            let wrong = client(port: server.port, try ClientTLS(caFile: certificates.caFile, serverHostname: name))
            await expectUnavailable(containing: "TLS handshake") {
                _ = try await wrong.unary(Retain_V1_Echo.echo, .init(text: "x"))
            }
            await wrong.close()
        }
        #expect(server.stop() == 0)
    }

    @Test("mutual TLS refuses clients without a certificate or with another CA's, and serves the right one")
    func mutualTLS() async throws {
        let server = try tlsEcho(clientCA: certificates.caFile)
        let anonymous = client(port: server.port, try ClientTLS(caFile: certificates.caFile))
        await expectUnavailable(containing: "CERTIFICATE") {
            _ = try await anonymous.unary(Retain_V1_Echo.echo, .init(text: "x"))
        }
        await anonymous.close()

        let stranger = client(
            port: server.port,
            try ClientTLS(
                caFile: certificates.caFile, certificateFile: certificates.otherClientCertificateFile,
                keyFile: certificates.otherClientKeyFile))
        await expectUnavailable(containing: "ssl") {
            _ = try await stranger.unary(Retain_V1_Echo.echo, .init(text: "x"))
        }
        await stranger.close()

        let member = client(
            port: server.port,
            try ClientTLS(
                caFile: certificates.caFile, certificateFile: certificates.clientCertificateFile,
                keyFile: certificates.clientKeyFile))
        #expect(try await member.unary(Retain_V1_Echo.echo, .init(text: "welcome")).text == "welcome")
        var streamed = 0
        for try await _ in member.serverStreaming(Retain_V1_Echo.expand, .init(text: "x", count: 3, intervalMs: 1)) {
            streamed += 1
        }
        #expect(streamed == 3)
        await member.close()
        #expect(server.stop() == 0)
        #expect(server.log.contains("TLS handshake failed"))
    }

    @Test("a plaintext client of a TLS server fails cleanly while a TLS client on another connection is served")
    func plaintextClientOfTLSServer() async throws {
        let server = try tlsEcho()
        let secure = client(port: server.port, try ClientTLS(caFile: certificates.caFile))
        // A stream that runs over the TLS connection the whole time the plaintext client fails.
        let stream = Task {
            var indexes: [UInt32] = []
            for try await message in secure.serverStreaming(Retain_V1_Echo.expand, .init(text: "s", count: 8, intervalMs: 50)) {
                indexes.append(message.index)
            }
            return indexes
        }
        let plaintext = client(port: server.port, nil)
        await expectUnavailable {
            _ = try await plaintext.unary(Retain_V1_Echo.echo, .init(text: "x"), options: .init(timeout: .seconds(10)))
        }
        await plaintext.close()
        #expect(try await stream.value == Array(0..<8))
        #expect(try await secure.unary(Retain_V1_Echo.echo, .init(text: "still")).text == "still")
        await secure.close()
        #expect(server.stop() == 0)
    }

    @Test("a TLS client of a plaintext server fails with UNAVAILABLE naming the TLS handshake")
    func tlsClientOfPlaintextServer() async throws {
        let server = try ServerProcess("retain-echo")
        let secure = client(port: server.port, try ClientTLS(caFile: certificates.caFile))
        await expectUnavailable(containing: "TLS handshake") {
            _ = try await secure.unary(Retain_V1_Echo.echo, .init(text: "x"))
        }
        await secure.close()
        // The plaintext server is unharmed.
        let plain = client(port: server.port, nil)
        #expect(try await plain.unary(Retain_V1_Echo.echo, .init(text: "plain")).text == "plain")
        await plain.close()
        #expect(server.stop() == 0)
    }

    @Test("a connection that never starts its handshake is closed after the handshake timeout")
    func handshakeTimeout() async throws {
        var configuration = RPCServer.Configuration()
        var tls = try ServerTLS(certificateFile: certificates.serverCertificateFile, keyFile: certificates.serverKeyFile)
        tls.handshakeTimeout = .milliseconds(300)
        configuration.tls = tls
        let server = RPCServer(router: RPCRouter(), configuration: configuration, logger: Logger(label: "tls-test"))
        let port = try await server.start().port!
        let started = ContinuousClock.now
        // Sends nothing; returns when the server closes (or after 10 s, failing below).
        let frames = try await RawConnection.sendAndReadUntilClose(port: port, closeAfter: .seconds(10)) { _ in }
        let elapsed = ContinuousClock.now - started
        #expect(frames.isEmpty)
        #expect(elapsed >= .milliseconds(250) && elapsed < .seconds(5), "closed after \(elapsed)")
        server.drain()
        try await server.waitForConnectionsToClose()
    }

    @Test("a missing file, a key of another certificate, or a certificate without its key stop the start with a clear message")
    func badFiles() throws {
        let missing = certificates.directory.appendingPathComponent("nope.pem").path
        let cases: [([String], String)] = [
            (["--tls-cert-file", missing, "--tls-key-file", certificates.serverKeyFile], "\(missing) does not exist"),
            (
                ["--tls-cert-file", certificates.serverCertificateFile, "--tls-key-file", certificates.clientKeyFile],
                "does not match certificate"
            ),
            (
                [
                    "--tls-cert-file", certificates.serverCertificateFile, "--tls-key-file", certificates.serverKeyFile,
                    "--tls-client-ca-file", missing,
                ], "\(missing) does not exist"
            ),
            (["--tls-cert-file", certificates.serverCertificateFile], "--tls-cert-file and --tls-key-file go together"),
        ]
        for (arguments, message) in cases {
            do {
                let server = try ServerProcess("retain-echo", arguments: arguments, timeout: .seconds(20))
                server.stop()
                Issue.record("retain-echo started with \(arguments)")
            } catch let error as ServerProcessError {
                #expect("\(error)".contains(message), "\(error)")
            }
        }
    }
}
