import Foundation
import RetainProcess
import RetainTestSupport
import Testing

extension CommandLineTests {
    @Test("call, health and list reach a mutual-TLS server with --tls-ca-file, --tls-cert-file and --tls-key-file")
    func tls() throws {
        let certificates = try TestCertificates.shared()
        let server = try ServerProcess(
            "retain-echo",
            arguments: [
                "--tls-cert-file", certificates.serverCertificateFile, "--tls-key-file", certificates.serverKeyFile,
                "--tls-client-ca-file", certificates.caFile,
            ])
        let address = "127.0.0.1:\(server.port)"
        let tls = [
            "--tls-ca-file", certificates.caFile,
            "--tls-cert-file", certificates.clientCertificateFile, "--tls-key-file", certificates.clientKeyFile,
        ]
        let call = try retain(["call", address, "retain.v1.Echo/Echo", #"{"text": "over tls"}"#, "--compact"] + tls)
        #expect(call.status == 0, "\(call.stderr)")
        #expect(call.stdout.contains(#""text":"over tls""#), "\(call.stdout)")
        let stream = try retain(["call", address, "retain.v1.Echo/Expand", #"{"text": "s", "count": 3}"#, "--compact"] + tls)
        #expect(stream.status == 0, "\(stream.stderr)")
        #expect(stream.stdout.split(separator: "\n").count == 3, "\(stream.stdout)")
        let health = try retain(["health", address] + tls)
        #expect(health.status == 0 && health.stdout.contains("SERVING_STATUS_SERVING"), "\(health.stdout)")
        let list = try retain(["list", address] + tls)
        #expect(list.status == 0 && list.stdout.contains("retain.v1.Echo"), "\(list.stderr)")

        // Without a client certificate the server refuses: UNAVAILABLE, exit code 14.
        let anonymous = try retain(["call", address, "retain.v1.Echo/Echo", "{}", "--tls-ca-file", certificates.caFile])
        #expect(anonymous.status == 14, "\(anonymous.stdout) \(anonymous.stderr)")
        // Plaintext to a TLS server: UNAVAILABLE too, not a hang.
        let plaintext = try retain(["call", address, "retain.v1.Echo/Echo", "{}", "--timeout", "10"])
        #expect(plaintext.status == 14, "\(plaintext.stdout) \(plaintext.stderr)")
        // A missing CA file is named.
        let missing = try retain(["call", address, "retain.v1.Echo/Echo", "{}", "--tls-ca-file", "/nonexistent/ca.pem"])
        #expect(missing.status != 0 && missing.stderr.contains("/nonexistent/ca.pem does not exist"), "\(missing.stderr)")
        #expect(server.stop() == 0)
    }
}
