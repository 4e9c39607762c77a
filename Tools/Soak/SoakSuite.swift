import Dispatch
import Foundation
import GatewayCore
import RetainAuth
import RetainProcess
#if canImport(Glibc)
import Glibc
#endif

/// The four services and the gateway as real processes on loopback, each service with its own
/// data directory, with authentication on: a fresh service secret for every process and an
/// admin API key the gateway knows (as `retain up` makes them, see `SuiteCredentials`).
///
/// A member can be killed or stopped and started again on the same port and data directory.
final class SoakSuite: @unchecked Sendable {
    /// The services, by short name, with the full name the gateway routes.
    static let services = [
        ("profile", "retain.v1.Profile"), ("growth", "retain.v1.Growth"),
        ("ledger", "retain.v1.Ledger"), ("feedback", "retain.v1.Feedback"),
    ]
    /// Every member's short name, the gateway last.
    static let members = services.map(\.0) + ["gateway"]

    /// The service secret every process checks tokens with.
    let secret: ServiceSecret
    /// `ApiKey <key>`: the admin key the gateway accepts.
    let apiKeyAuthorization: String
    private let root: URL
    private let binaries: URL
    private let lock = NSLock()
    private var processes: [String: ServerProcess] = [:]
    private var ports: [String: Int] = [:]
    private var restartCounts: [String: Int] = [:]

    /// Starts every member under `root` (data directories, the secret and the key file), with
    /// the executables in `binaries`. Blocks until each listens.
    init(root: URL, binaries: URL) throws {
        self.root = root
        self.binaries = binaries
        let files = FileManager.default
        let secrets = root.appendingPathComponent("secrets")
        try files.createDirectory(at: secrets, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let secretText = ServiceSecret.generateText()
        secret = try ServiceSecret(secretText)
        // Far above the gateway's default 200 calls/s per key: the soak measures the suite, not the limiter.
        let (key, entry) = APIKeyStore.makeKey(id: "soak", scopes: .admin, rateLimit: .init(perSecond: 50_000, burst: 100_000))
        apiKeyAuthorization = "ApiKey \(key)"
        let keysFile = secrets.appendingPathComponent("api-keys.json")
        guard files.createFile(atPath: keysFile.path, contents: Data("{\"keys\": [\n  \(entry.json)\n]}\n".utf8),
                               attributes: [.posixPermissions: 0o600]) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: keysFile.path])
        }
        self.secretText = secretText
        for (name, _) in Self.services {
            try files.createDirectory(at: root.appendingPathComponent(name), withIntermediateDirectories: true)
            try start(name, port: 0)
        }
        let topology = Topology(services: Self.services.map { name, service in
            Topology.Service(name: service, instances: [Topology.Instance(id: "\(name)-0", host: "127.0.0.1", port: ports[name]!)])
        })
        let topologyFile = root.appendingPathComponent("topology.json")
        try topology.encoded().write(to: topologyFile, options: .atomic)
        gatewayArguments = ["--topology", topologyFile.path, "--api-keys-file", keysFile.path, "--health-interval-ms", "250"]
        try start("gateway", port: 0)
    }

    private let secretText: String
    private var gatewayArguments: [String] = []

    /// The RPC port of member `name`.
    func port(of name: String) -> Int { lock.withLock { ports[name]! } }

    /// The process id of member `name` now, or nil while it is down.
    func pid(of name: String) -> Int32? {
        lock.withLock { processes[name].flatMap { $0.process.isRunning ? $0.process.processIdentifier : nil } }
    }

    /// How often each member was restarted.
    var restarts: [String: Int] { lock.withLock { restartCounts } }

    /// Ends member `name` with `signal` (SIGKILL: a crash; SIGTERM: a graceful drain), waits
    /// for it to exit, and starts it again on the same port and data directory. Runs off the
    /// cooperative thread pool, since starting a process blocks.
    func restart(_ name: String, signal: Int32) async throws {
        try await Self.offPool {
            let old = self.lock.withLock { self.processes[name] }
            if signal == SIGKILL { old?.kill() } else { old?.stop() }
            try self.start(name, port: self.port(of: name))
            self.lock.withLock { self.restartCounts[name, default: 0] += 1 }
        }
    }

    /// Stops every member gracefully, the gateway first; returns each one's exit status.
    func stop() async -> [String: Int32] {
        await Self.offPool {
            var statuses: [String: Int32] = [:]
            for name in Self.members.reversed() {
                if let process = self.lock.withLock({ self.processes.removeValue(forKey: name) }) {
                    statuses[name] = process.stop()
                }
            }
            return statuses
        }
    }

    /// What member `name` logged (its current process).
    func log(of name: String) -> String { lock.withLock { processes[name]?.log ?? "" } }

    private func start(_ name: String, port: Int) throws {
        var arguments = ["--log-level", "warning"]
        if name == "gateway" {
            arguments += gatewayArguments
        } else {
            arguments += ["--data-dir", root.appendingPathComponent(name).path]
        }
        let process = try ServerProcess(executableAt: binaries.appendingPathComponent("retain-\(name)"), arguments: arguments,
                                        port: port, timeout: .seconds(60),
                                        environment: [ServiceSecret.environmentVariable: secretText])
        lock.withLock {
            processes[name] = process
            ports[name] = process.port
        }
    }

    /// Runs blocking `work` on a dispatch thread.
    static func offPool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Result { try work() }) }
        }
    }

    /// Runs blocking `work` on a dispatch thread.
    static func offPool<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: work()) }
        }
    }
}
