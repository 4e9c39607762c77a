public import Foundation

/// A real etcd member started as a child process on loopback: for tests, and for `retain up`
/// when it runs replicated shards locally.
///
/// Alone it is a single-member etcd (`EtcdProcess(configuration:)`); `EtcdCluster` starts
/// several that form one cluster. It listens on free loopback ports unless told which, keeps its
/// data in a temporary directory removed at `shutdown()` unless given one, and is killed when
/// it is shut down or released.
public final class EtcdProcess: @unchecked Sendable {
    /// How a member is started.
    public struct Configuration: Sendable {
        /// The etcd executable: `$RETAIN_ETCD`, or `etcd` on the `PATH` (Debian's `etcd-server`
        /// installs `/usr/bin/etcd`).
        public var executable: URL = EtcdProcess.defaultExecutable
        /// Where the member keeps its data. nil (the default): a fresh temporary directory,
        /// removed by `shutdown()`. A directory given here is kept, so a restarted `retain up`
        /// finds its etcd state again.
        public var dataDirectory: URL? = nil
        /// The client port (HTTP and gRPC). nil (the default): a free port.
        public var clientPort: Int? = nil
        /// The peer (raft) port. nil (the default): a free port.
        public var peerPort: Int? = nil
        /// Raft heartbeat, in milliseconds. Default 100 (etcd's default); tests may lower it.
        public var heartbeatIntervalMilliseconds = 100
        /// Raft election timeout, in milliseconds (10 heartbeats is usual). Default 1000 (etcd's default).
        public var electionTimeoutMilliseconds = 1000
        /// How often etcd sends a watch a progress notification when nothing changes, so a client
        /// can tell a quiet watch from a dead one (`EtcdClient.Configuration.watchIdleTimeout`).
        /// Default 1 s (etcd's own default is 10 minutes).
        public var watchProgressNotifyInterval: Duration = .seconds(1)
        /// How long to wait for the member (or cluster) to answer `/health`. Default 30 s.
        public var startTimeout: Duration = .seconds(30)

        /// The defaults.
        public init() {}
    }

    /// The member's name in its cluster.
    public let name: String
    /// The port clients use.
    public let clientPort: Int
    /// The port other members use.
    public let peerPort: Int
    /// Where the member keeps its data.
    public let dataDirectory: URL
    /// Where its output goes (appended across restarts), for failure messages.
    public let logFile: URL
    /// The URL to give `EtcdClient`: `http://127.0.0.1:PORT`.
    public var endpoint: String { "http://127.0.0.1:\(clientPort)" }

    private let arguments: [String]
    private let executable: URL
    private let removesDataDirectory: Bool
    private let lock = NSLock()
    private var process: Process?

    /// Starts a single-member etcd and waits until it answers `/health`.
    public convenience init(configuration: Configuration = Configuration()) throws {
        var lastError: (any Error)?
        // A free port picked here may be taken by someone else before etcd binds it: try again.
        for _ in 0..<3 {
            let ports = try EtcdProcess.freePorts(2)
            let clientPort = configuration.clientPort ?? ports[0]
            let peerPort = configuration.peerPort ?? ports[1]
            let name = "retain-etcd"
            do {
                try self.init(
                    name: name, clientPort: clientPort, peerPort: peerPort,
                    initialCluster: "\(name)=http://127.0.0.1:\(peerPort)", clusterToken: "retain-\(UUID().uuidString)",
                    dataDirectory: configuration.dataDirectory, configuration: configuration)
                try waitUntilHealthy(timeout: configuration.startTimeout)
                return
            } catch EtcdProcessError.exited(let log) where configuration.clientPort == nil || configuration.peerPort == nil {
                lastError = EtcdProcessError.exited(log)
                continue
            }
        }
        throw lastError ?? EtcdProcessError.exited("")
    }

    /// Starts one member of a cluster without waiting for it (a member answers only once a
    /// majority runs).
    init(
        name: String, clientPort: Int, peerPort: Int, initialCluster: String, clusterToken: String,
        dataDirectory: URL?, configuration: Configuration
    ) throws {
        guard FileManager.default.isExecutableFile(atPath: configuration.executable.path) else {
            throw EtcdProcessError.notInstalled(configuration.executable.path)
        }
        self.name = name
        self.clientPort = clientPort
        self.peerPort = peerPort
        self.executable = configuration.executable
        if let dataDirectory {
            self.dataDirectory = dataDirectory
            removesDataDirectory = false
        } else {
            self.dataDirectory = try makeTemporaryDirectory("retain-etcd")
            removesDataDirectory = true
        }
        try FileManager.default.createDirectory(at: self.dataDirectory, withIntermediateDirectories: true)
        logFile = FileManager.default.temporaryDirectory.appendingPathComponent("etcd-\(name)-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)
        let client = "http://127.0.0.1:\(clientPort)"
        let peer = "http://127.0.0.1:\(peerPort)"
        let notify = configuration.watchProgressNotifyInterval.components
        let notifyMilliseconds = notify.seconds * 1000 + notify.attoseconds / 1_000_000_000_000_000
        arguments = [
            "--name", name,
            "--data-dir", self.dataDirectory.path,
            "--listen-client-urls", client, "--advertise-client-urls", client,
            "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
            "--initial-cluster", initialCluster,
            "--initial-cluster-token", clusterToken,
            "--initial-cluster-state", "new",
            "--heartbeat-interval", String(configuration.heartbeatIntervalMilliseconds),
            "--election-timeout", String(configuration.electionTimeoutMilliseconds),
            "--experimental-watch-progress-notify-interval", "\(max(1, notifyMilliseconds))ms",
            "--logger", "zap", "--log-outputs", "stderr",
        ]
        try launch()
    }

    /// The etcd executable this machine has: `$RETAIN_ETCD`, else `etcd` on the `PATH`, else `/usr/bin/etcd`.
    public static var defaultExecutable: URL {
        let environment = ProcessInfo.processInfo.environment
        if let path = environment["RETAIN_ETCD"], !path.isEmpty { return URL(fileURLWithPath: path) }
        for directory in (environment["PATH"] ?? "").split(separator: ":") {
            let candidate = URL(fileURLWithPath: String(directory)).appendingPathComponent("etcd")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        return URL(fileURLWithPath: "/usr/bin/etcd")
    }

    /// The process id while it runs.
    public var processIdentifier: Int32? {
        lock.withLock { process.flatMap { $0.isRunning ? $0.processIdentifier : nil } }
    }

    /// True while the process exists (even when stopped with SIGSTOP).
    public var isRunning: Bool {
        lock.withLock { process?.isRunning ?? false }
    }

    /// What the member logged.
    public var log: String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }

    private func launch() throws {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        let log = try FileHandle(forWritingTo: logFile)
        log.seekToEndOfFile()
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
        lock.withLock { self.process = process }
    }

    /// Waits until the member answers `/health` with `"health":"true"`, which needs a leader.
    public func waitUntilHealthy(timeout: Duration = .seconds(30)) throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if isHealthy() { return }
            guard isRunning else { throw EtcdProcessError.exited(log) }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw EtcdProcessError.notHealthy(name, log)
    }

    /// True when the member answers `/health` with `"health":"true"` within a second.
    public func isHealthy() -> Bool {
        guard let answer = EtcdProcess.httpGet(port: clientPort, path: "/health", timeoutSeconds: 1) else { return false }
        return answer.contains(#""health":"true""#)
    }

    /// SIGKILL: the member dies as in a crash. Its data stays.
    public func kill() {
        guard let process = lock.withLock({ process }) else { return }
        if process.isRunning {
            Foundation.kill(process.processIdentifier, SIGKILL)
            process.waitForExit()
        }
    }

    /// SIGSTOP: the member hangs, its sockets stay open and nothing answers. Returns once every
    /// thread of it has stopped (a signal is delivered asynchronously; a call made right after
    /// `kill` could still be answered).
    public func suspend() {
        guard let pid = processIdentifier else { return }
        Foundation.kill(pid, SIGSTOP)
        let deadline = ContinuousClock.now + .seconds(2)
        while ContinuousClock.now < deadline, !EtcdProcess.allThreadsStopped(pid) {
            Thread.sleep(forTimeInterval: 0.002)
        }
    }

    /// True when every thread of `pid` is in state T (stopped), read from `/proc`.
    static func allThreadsStopped(_ pid: Int32) -> Bool {
        let tasks = "/proc/\(pid)/task"
        guard let threads = try? FileManager.default.contentsOfDirectory(atPath: tasks), !threads.isEmpty else { return false }
        return threads.allSatisfy { thread in
            guard let stat = try? String(contentsOfFile: "\(tasks)/\(thread)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { return true }  // gone meanwhile
            let state = stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).first
            return state == "T" || state == "t"
        }
    }

    /// SIGCONT: a suspended member runs again.
    public func resume() {
        if let pid = processIdentifier { Foundation.kill(pid, SIGCONT) }
    }

    /// Kills the member if it runs and starts it again on the same ports and data, without
    /// waiting for it (see `waitUntilHealthy`).
    public func restart() throws {
        kill()
        try launch()
    }

    /// Stops the member (SIGTERM, then SIGKILL after 5 s) and removes its data directory unless
    /// it was given one.
    public func shutdown() {
        if let process = lock.withLock({ process }), process.isRunning {
            Foundation.kill(process.processIdentifier, SIGCONT)
            process.terminate()
            let deadline = ContinuousClock.now + .seconds(5)
            while process.isRunning, ContinuousClock.now < deadline { Thread.sleep(forTimeInterval: 0.02) }
            kill()
        }
        if removesDataDirectory { try? FileManager.default.removeItem(at: dataDirectory) }
    }

    deinit {
        if let process, process.isRunning {
            Foundation.kill(process.processIdentifier, SIGKILL)
            process.waitForExit()
        }
        if removesDataDirectory { try? FileManager.default.removeItem(at: dataDirectory) }
        try? FileManager.default.removeItem(at: logFile)
    }
}

/// Why an etcd could not be started.
public enum EtcdProcessError: Error, CustomStringConvertible {
    case notInstalled(String)
    case exited(String)
    case notHealthy(String, String)

    public var description: String {
        switch self {
        case .notInstalled(let path): "etcd not found at \(path) (install Debian's etcd-server or set RETAIN_ETCD)"
        case .exited(let log): "etcd exited while starting:\n\(log.suffix(4000))"
        case .notHealthy(let name, let log): "etcd member \(name) did not become healthy:\n\(log.suffix(4000))"
        }
    }
}
