import Foundation
import GatewayCore
import RetainProcess
import RetainProto
import RetainRPC
import RetainTestSupport
import RetainWire
import Testing

/// A real `retain-gateway` calling a mutual-TLS `retain-echo` backend, over TCP on loopback.
@Suite("Gateway with TLS", .serialized)
struct GatewayTLSTests {
    @Test("the gateway serves TLS and forwards to a mutual-TLS backend with its client certificate")
    func forwardsOverMutualTLS() async throws {
        let certificates = try TestCertificates.shared()
        let echo = try ServerProcess(
            "retain-echo",
            arguments: [
                "--tls-cert-file", certificates.serverCertificateFile, "--tls-key-file", certificates.serverKeyFile,
                "--tls-client-ca-file", certificates.caFile,
            ])
        let directory = try makeTemporaryDirectory("gateway-tls-test")
        defer { try? FileManager.default.removeItem(at: directory) }
        let topology = Topology(services: [
            Topology.Service(
                name: "retain.v1.Echo", instances: [Topology.Instance(id: "echo-0", host: "127.0.0.1", port: echo.port)])
        ])
        let file = directory.appendingPathComponent("topology.json")
        try topology.encoded().write(to: file)
        let serverTLS = ["--tls-cert-file", certificates.serverCertificateFile, "--tls-key-file", certificates.serverKeyFile]
        let gateway = try ServerProcess(
            "retain-gateway",
            arguments: [
                "--topology", file.path, "--health-interval-ms", "200",
                "--peer-tls-ca-file", certificates.caFile,
                "--peer-tls-cert-file", certificates.clientCertificateFile, "--peer-tls-key-file", certificates.clientKeyFile,
            ] + serverTLS)
        var configuration = RPCClient.Configuration()
        configuration.tls = try ClientTLS(caFile: certificates.caFile)
        let client = RPCClient(host: "127.0.0.1", port: gateway.port, configuration: configuration)
        #expect(try await client.unary(Retain_V1_Echo.echo, .init(text: "through")).text == "through")
        var streamed: [UInt32] = []
        for try await message in client.serverStreaming(Retain_V1_Echo.expand, .init(text: "x", count: 3, intervalMs: 5)) {
            streamed.append(message.index)
        }
        #expect(streamed == [0, 1, 2])
        await client.close()
        #expect(gateway.stop() == 0)

        // Without its client certificate the gateway cannot reach the backend: UNAVAILABLE.
        let anonymous = try ServerProcess(
            "retain-gateway",
            arguments: [
                "--topology", file.path, "--health-interval-ms", "200", "--peer-tls-ca-file", certificates.caFile,
            ])
        let plain = RPCClient(host: "127.0.0.1", port: anonymous.port)
        await #expect {
            _ = try await plain.unary(Retain_V1_Echo.echo, .init(text: "x"), options: .init(timeout: .seconds(5)))
        } throws: { error in
            (error as? RPCError)?.code == .unavailable
        }
        await plain.close()
        #expect(anonymous.stop() == 0)
        #expect(echo.stop() == 0)
    }
}
