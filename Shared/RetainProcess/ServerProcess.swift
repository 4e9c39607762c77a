public import Foundation

/// A Retain executable started as a child process on loopback: for integration tests,
/// benchmarks and the local launcher.
///
/// It is started with `--port 0`, and the port is read from its `listening on HOST:PORT` line
/// (the port of its HTTP operations endpoints, if any, from its `ops listening on` line).
public final class ServerProcess: @unchecked Sendable {
    /// The running process.
    public let process: Process
    /// The port it listens on.
    public let port: Int
    /// The port of its HTTP operations endpoints (`/metrics`, `/healthz`, `/readyz`), or nil
    /// when it printed none before its RPC port.
    public let opsPort: Int?
    /// Its standard error, captured to a file for failure messages.
    public let logFile: URL
    private let output: Pipe

    /// The directory holding the package's built executables: next to the test bundle, or
    /// `$RETAIN_EXECUTABLES_DIR` when set (to run the integration tests against another build,
    /// for example to show that a new test fails on the code before a fix).
    public static var buildDirectory: URL {
        if let directory = ProcessInfo.processInfo.environment["RETAIN_EXECUTABLES_DIR"], !directory.isEmpty {
            return URL(fileURLWithPath: directory)
        }
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var directory = executable.deletingLastPathComponent()
        // On some platforms the test binary sits inside a bundle directory.
        while directory.pathExtension == "xctest" || directory.lastPathComponent == "Contents"
            || directory.lastPathComponent == "MacOS"
        {
            directory.deleteLastPathComponent()
        }
        return directory
    }

    /// Starts `executable` (a product name such as `retain-echo`) with `arguments` plus
    /// `--port 0`, and waits until it listens.
    ///
    /// Without `serviceSecret` it runs with credential checks off (`RETAIN_INSECURE_NO_AUTH=1`
    /// in its environment); with one, it gets it as `RETAIN_SERVICE_SECRET` and checks every call.
    public convenience init(
        _ executable: String, arguments: [String] = [], port: Int = 0, timeout: Duration = .seconds(30),
        serviceSecret: String? = nil, environment: [String: String] = [:]
    ) throws {
        var environment = environment
        if let serviceSecret {
            environment["RETAIN_SERVICE_SECRET"] = serviceSecret
        } else {
            environment["RETAIN_INSECURE_NO_AUTH"] = "1"
        }
        try self.init(
            executableAt: Self.buildDirectory.appendingPathComponent(executable), arguments: arguments,
            port: port, timeout: timeout, environment: environment)
    }

    /// Starts the executable at `path` (built elsewhere, such as a benchmark's own package) with
    /// `arguments` plus `--port 0`, and waits until it listens. `environment` is added to this
    /// process's, without its `RETAIN_SERVICE_SECRET` and `RETAIN_INSECURE_NO_AUTH`.
    public init(
        executableAt path: URL, arguments: [String] = [], port: Int = 0, timeout: Duration = .seconds(30),
        environment: [String: String] = [:]
    ) throws {
        let executable = path.lastPathComponent
        guard FileManager.default.isExecutableFile(atPath: path.path) else {
            throw ServerProcessError.notBuilt(path.path)
        }
        logFile = FileManager.default.temporaryDirectory.appendingPathComponent("\(executable)-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)
        process = Process()
        process.executableURL = path
        process.arguments = arguments + ["--port", String(port)]
        var inherited = ProcessInfo.processInfo.environment
        inherited["RETAIN_SERVICE_SECRET"] = nil
        inherited["RETAIN_INSECURE_NO_AUTH"] = nil
        process.environment = inherited.merging(environment) { $1 }
        output = Pipe()
        process.standardOutput = output
        process.standardError = try FileHandle(forWritingTo: logFile)
        try process.run()

        let deadline = ContinuousClock.now + timeout
        var seen = Data()
        let handle = output.fileHandleForReading
        while ContinuousClock.now < deadline {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            seen.append(chunk)
            if let text = String(data: seen, encoding: .utf8),
                let line = text.split(separator: "\n").first(where: { $0.contains(" listening on ") && !$0.contains(" ops listening on ") }
                ),
                let portText = line.split(separator: ":").last, let parsed = Int(portText)
            {
                self.port = parsed
                self.opsPort = text.split(separator: "\n").first(where: { $0.contains(" ops listening on ") })
                    .flatMap { $0.split(separator: ":").last }.flatMap { Int($0) }
                return
            }
        }
        process.terminate()
        throw ServerProcessError.didNotStart(
            executable, String(data: seen, encoding: .utf8) ?? "",
            (try? String(contentsOf: logFile, encoding: .utf8)) ?? "")
    }

    /// Sends SIGTERM and waits for a graceful exit; returns the exit status.
    @discardableResult
    public func stop() -> Int32 {
        if process.isRunning { process.terminate() }
        process.waitForExit()
        return process.terminationStatus
    }

    /// Sends SIGKILL: a crash, as far as the server can tell.
    public func kill() {
        if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
        process.waitForExit()
    }

    /// What the server logged.
    public var log: String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }

    deinit {
        if process.isRunning {
            Foundation.kill(process.processIdentifier, SIGKILL)
            process.waitForExit()
        }
        try? FileManager.default.removeItem(at: logFile)
    }
}

/// Why a server process could not be used.
public enum ServerProcessError: Error, CustomStringConvertible {
    case notBuilt(String)
    case didNotStart(String, String, String)

    public var description: String {
        switch self {
        case .notBuilt(let path): "executable not built: \(path) (run swift build first)"
        case .didNotStart(let name, let out, let err): "\(name) did not report its port.\nstdout: \(out)\nstderr: \(err)"
        }
    }
}

/// A fresh temporary directory, removed by the caller.
public func makeTemporaryDirectory(_ prefix: String = "retain-test") throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}
