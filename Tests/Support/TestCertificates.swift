public import Foundation
import RetainProcess

/// Certificates for TLS tests, made with the `openssl` command in a temporary directory: a CA,
/// a server certificate for `localhost` and 127.0.0.1 signed by it, one for `echo.retain.test`
/// only, a client certificate signed by it, and a second, unrelated CA with a client certificate of its own. Every file is PEM;
/// keys are P-256 and certificates last two days.
///
/// Test support, in no production target: the tests and `retain-bench echo --tls`
/// (Tools/Bench/Main/EchoBenchmark.swift) make their certificates with it.
public struct TestCertificates: Sendable {
    /// The directory holding every file; removed by the caller, or left in the temporary folder.
    public let directory: URL
    /// The CA that signs the server and the client certificate.
    public var caFile: String { path("ca.pem") }
    /// The server's certificate (subjectAltName DNS:localhost, IP:127.0.0.1) and its key.
    public var serverCertificateFile: String { path("server.pem") }
    public var serverKeyFile: String { path("server.key") }
    /// A server certificate that names only `echo.retain.test` (no IP address), and its key.
    public var namedServerCertificateFile: String { path("named-server.pem") }
    public var namedServerKeyFile: String { path("named-server.key") }
    /// A client certificate signed by ``caFile``, and its key.
    public var clientCertificateFile: String { path("client.pem") }
    public var clientKeyFile: String { path("client.key") }
    /// A CA unrelated to ``caFile``.
    public var otherCAFile: String { path("other-ca.pem") }
    /// A client certificate signed by ``otherCAFile``, and its key.
    public var otherClientCertificateFile: String { path("other-client.pem") }
    public var otherClientKeyFile: String { path("other-client.key") }

    /// One set per test process, made on first use.
    public static func shared() throws -> TestCertificates {
        try sharedResult.get()
    }

    private static let sharedResult = Result<TestCertificates, any Error> { try TestCertificates() }

    /// Makes a new set in a new temporary directory.
    public init() throws {
        directory = try makeTemporaryDirectory("retain-tls")
        try makeCA("ca", name: "Retain Test CA")
        try makeCA("other-ca", name: "Unrelated Test CA")
        try sign(
            "server", name: "localhost", by: "ca",
            extensions: "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n")
        try sign(
            "named-server", name: "echo.retain.test", by: "ca",
            extensions: "subjectAltName=DNS:echo.retain.test\nextendedKeyUsage=serverAuth\n")
        try sign("client", name: "retain-test-client", by: "ca", extensions: "extendedKeyUsage=clientAuth\n")
        try sign("other-client", name: "retain-test-client", by: "other-ca", extensions: "extendedKeyUsage=clientAuth\n")
    }

    private func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    private func makeCA(_ name: String, name subject: String) throws {
        try openssl([
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", path("\(name).key"), "-out", path("\(name).pem"), "-days", "2",
            "-subj", "/CN=\(subject)",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        ])
    }

    private func sign(_ name: String, name subject: String, by ca: String, extensions: String) throws {
        try Data("basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n\(extensions)".utf8)
            .write(to: URL(fileURLWithPath: path("\(name).ext")))
        try openssl([
            "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", path("\(name).key"), "-out", path("\(name).csr"), "-subj", "/CN=\(subject)",
        ])
        try openssl([
            "x509", "-req", "-in", path("\(name).csr"), "-CA", path("\(ca).pem"), "-CAkey", path("\(ca).key"),
            "-set_serial", String(UInt32.random(in: 1...UInt32.max)), "-days", "2", "-sha256",
            "-extfile", path("\(name).ext"), "-out", path("\(name).pem"),
        ])
    }

    private func openssl(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["openssl"] + arguments
        let errors = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = errors
        try process.run()
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitForExit()
        guard process.terminationStatus == 0 else {
            throw TestCertificatesError(
                message: "openssl \(arguments.joined(separator: " ")) failed: "
                    + String(decoding: message, as: UTF8.self))
        }
    }
}

/// `openssl` failed (or is not installed: scripts/install-deps.sh installs it).
public struct TestCertificatesError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
