import Foundation
import RetainProcess
import Testing

/// The interop test: a Python client written only from `docs/PROTOCOL.md` and the `.proto`
/// files (`Tests/Interop/retain_client.py`) calls a real `retain-echo` over TCP and decodes its
/// answers. Needs python3 with Google's `protobuf` package, and `protoc`.
@Suite("Python interop", .serialized)
struct PythonInteropTests {
    @Test(
        "a Python client built from PROTOCOL.md talks to retain-echo",
        .enabled(if: PythonInterop.missing.isEmpty, Comment(rawValue: PythonInterop.skipMessage)),
        .timeLimit(.minutes(3)))
    func pythonClient() async throws {
        let server = try ServerProcess("retain-echo")
        // A second server checks tokens: the script mints them from docs/SECURITY.md alone.
        let secret = String(repeating: "interop-secret-", count: 3)
        let secured = try ServerProcess("retain-echo", arguments: ["--ops-port=-1"], serviceSecret: secret)
        defer { secured.stop() }
        let script = PythonInterop.repositoryRoot.appendingPathComponent("Tests/Interop/interop_test.py")
        let (status, output) = try await PythonInterop.run(
            PythonInterop.python!, [script.path, "--port", String(server.port), "--secured-port", String(secured.port)],
            environment: ["RETAIN_SERVICE_SECRET": secret], timeout: .seconds(150))
        #expect(status == 0, "interop_test.py exited with \(status):\n\(output)\nserver log:\n\(server.log)")
        #expect(output.contains(" passed, 0 failed"), "\(output)")
        #expect(server.stop() == 0, "retain-echo did not drain cleanly:\n\(server.log)")
    }
}

/// Finds what the interop test needs and runs the Python script.
enum PythonInterop {
    /// The repository root: this file is `Tests/RetainRPCTests/PythonInteropTests.swift`.
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static let python = executable("python3")
    static let protoc = executable("protoc")

    /// What is missing to run the test; empty when everything is there.
    static let missing: [String] = {
        var missing: [String] = []
        if let python {
            let probe = try? runSynchronously(python, ["-c", "import google.protobuf"])
            if probe != 0 { missing.append("the Python protobuf package (pip install protobuf)") }
        } else {
            missing.append("python3")
        }
        if protoc == nil { missing.append("protoc (apt-get install protobuf-compiler)") }
        return missing
    }()

    static var skipMessage: String {
        "Python interop test skipped: missing " + missing.joined(separator: ", ")
    }

    /// The first executable named `name` on PATH.
    static func executable(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    private static func runSynchronously(_ executable: String, _ arguments: [String]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitForExit()
        return process.terminationStatus
    }

    /// Runs `executable` with its output (stdout and stderr) captured in a file, killing it
    /// after `timeout`; returns its exit status and output.
    static func run(
        _ executable: String, _ arguments: [String], environment extra: [String: String] = [:],
        timeout: Duration
    ) async throws -> (Int32, String) {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("interop-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: log) }
        let handle = try FileHandle(forWritingTo: log)
        defer { try? handle.close() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = repositoryRoot
        var environment = ProcessInfo.processInfo.environment
        environment["PYTHONUNBUFFERED"] = "1"
        environment["PYTHONDONTWRITEBYTECODE"] = "1"
        process.environment = environment.merging(extra) { $1 }
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        let deadline = ContinuousClock.now + timeout
        while process.isRunning, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        var timedOut = false
        if process.isRunning {
            timedOut = true
            process.terminate()
        }
        process.waitForExit()
        var output = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        if timedOut { output += "\n(killed after \(timeout))" }
        return (timedOut ? -1 : process.terminationStatus, output)
    }
}
