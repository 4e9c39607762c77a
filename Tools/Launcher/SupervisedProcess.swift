import Foundation
import RetainServiceKit
#if canImport(Glibc)
import Glibc
#endif

/// A child process that `retain up` keeps running: started with its output appended to a log
/// file, restarted with backoff when it exits on its own, stopped with SIGTERM then SIGKILL.
final class SupervisedProcess: @unchecked Sendable {
    let member: SuiteMember
    let executable: URL
    let logFile: URL
    let host: String
    let logLevel: String
    /// Added to the launcher's environment (the service secret, or the insecure switch).
    let environment: [String: String]
    private let lock = NSLock()
    private var process: Process?
    private var exits: AsyncStream<Int32>?
    private var stopping = false
    private(set) var restarts = 0

    init(
        member: SuiteMember, executable: URL, logFile: URL, host: String, logLevel: String,
        environment: [String: String] = [:]
    ) {
        self.member = member
        self.environment = environment
        self.executable = executable
        self.logFile = logFile
        self.host = host
        self.logLevel = logLevel
    }

    /// The running process's id, or nil.
    var pid: Int32? { lock.withLock { process.map(\.processIdentifier) } }

    /// Starts the process; its standard output and error go to the log file.
    func launch() throws {
        if !FileManager.default.fileExists(atPath: logFile.path) {
            _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)
        }
        let log = try FileHandle(forWritingTo: logFile)
        log.seekToEndOfFile()
        let process = Process()
        process.executableURL = executable
        process.arguments = member.arguments(host: host, logLevel: logLevel)
        var inherited = ProcessInfo.processInfo.environment
        inherited["RETAIN_SERVICE_SECRET"] = nil
        inherited["RETAIN_INSECURE_NO_AUTH"] = nil
        process.environment = inherited.merging(environment) { $1 }
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        let (stream, continuation) = AsyncStream<Int32>.makeStream()
        process.terminationHandler = { process in
            continuation.yield(process.terminationStatus)
            continuation.finish()
            try? log.close()
        }
        try process.run()
        lock.withLock {
            self.process = process
            self.exits = stream
        }
    }

    /// Waits until the current process exits; returns its status.
    func waitForExit() async -> Int32 {
        guard let exits = lock.withLock({ self.exits }) else { return 0 }
        for await status in exits { return status }
        return 0
    }

    /// Whether the process runs now.
    var isRunning: Bool { lock.withLock { process?.isRunning ?? false } }

    /// Whether ``stop(timeout:)`` was called: an exit is then expected, not a crash.
    var isStopping: Bool { lock.withLock { stopping } }

    /// Counts a restart.
    func countRestart() { lock.withLock { restarts += 1 } }

    /// Waits until the process answers 200 on its ready path (`/readyz`; see
    /// ``SuiteMember/readyPath``), it exits, or `timeout` passes.
    func waitUntilReady(timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline, isRunning {
            if let answer = try? await OpsProbe.get(host: probeHost, port: member.opsPort, path: member.readyPath, timeout: .seconds(1)),
                answer.status == 200
            {
                return true
            }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return false
    }

    /// Stops the process: SIGTERM (a graceful drain), then SIGKILL if it is still running after
    /// `timeout`. Returns true when it exited on its own.
    @discardableResult
    func stop(timeout: Duration) async -> Bool {
        let process: Process? = lock.withLock {
            stopping = true
            return self.process
        }
        guard let process, process.isRunning else { return true }
        kill(process.processIdentifier, SIGTERM)
        let deadline = ContinuousClock.now + timeout
        while process.isRunning, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
        guard process.isRunning else { return true }
        kill(process.processIdentifier, SIGKILL)
        while process.isRunning { try? await Task.sleep(for: .milliseconds(20)) }
        return false
    }

    /// Where to probe the ops port: the listening host, or loopback when it listens everywhere.
    private var probeHost: String { host == "0.0.0.0" || host == "::" ? "127.0.0.1" : host }
}
