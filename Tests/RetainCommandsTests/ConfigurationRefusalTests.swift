import Foundation
import RetainProcess
import RetainTestSupport
import Testing

/// Every executable reads its configuration files through one loader, so a bad file is refused
/// the same way everywhere: before serving, with the usage exit code and the option and path
/// named in front of the problem.
@Suite("a bad configuration file refuses the start alike in every executable")
struct ConfigurationRefusalTests {
    /// Runs `executable` to its end (the command-line tests' runner).
    func start(_ executable: String, _ arguments: [String]) throws -> CommandLineTests.Output {
        try CommandLineTests().retain(arguments, executable: executable)
    }

    @Test(
        "each service and the gateway exit 64 naming the option and the file",
        arguments: ["retain-profile", "retain-growth", "retain-ledger", "retain-feedback", "retain-gateway"])
    func refused(executable: String) throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let bad = directory.appendingPathComponent("bad.json")
        try Data(#"{"version": "#.utf8).write(to: bad)
        let topology = directory.appendingPathComponent("topology.json")
        try Data(#"{"services": {"retain.v1.Profile": [{"id": "profile-0", "address": "127.0.0.1:1"}]}}"#.utf8).write(to: topology)
        var arguments = [
            "serve", "--port", "0", "--ops-port=-1", "--data-dir", directory.appendingPathComponent("data").path,
            "--config", bad.path,
        ]
        if executable == "retain-gateway" { arguments += ["--topology", topology.path] }
        let refusal = try start(executable, arguments)
        #expect(refusal.status == 64, "\(refusal)")
        #expect(refusal.stderr.contains("--config \(bad.path):"), "\(refusal)")
    }

    @Test("the gateway's topology file is refused the same way")
    func topologyRefused() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let bad = directory.appendingPathComponent("topology.json")
        try Data(#"{"services": {"retain.v1.Profile": [{"id": "profile-0", "address": "nowhere"}]}}"#.utf8).write(to: bad)
        let refusal = try start("retain-gateway", ["serve", "--port", "0", "--ops-port=-1", "--topology", bad.path])
        #expect(refusal.status == 64, "\(refusal)")
        #expect(refusal.stderr.contains("--topology \(bad.path):"), "\(refusal)")
    }
}
