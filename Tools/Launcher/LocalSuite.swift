public import Foundation
import GatewayCore
public import RetainProcess

/// The whole suite (Profile, Growth, Ledger, Feedback and a gateway in front of them) started as
/// child processes on loopback with free ports and data directories under one root: for
/// integration tests, `retain demo` and `retain soak`. Unlike `retain up` it does not supervise: a
/// caller kills a member on purpose (``kill(_:)``, a crash) or stops it (``stop(_:)``, a graceful
/// drain) and starts it again on the same port and data directory (``restart(_:)``), and the
/// gateway (or its clients, for the gateway) find it there.
public final class LocalSuite: @unchecked Sendable {
    /// A backend service of the suite.
    public enum Service: String, CaseIterable, Sendable {
        case profile, growth, ledger, feedback

        /// The executable product, e.g. `retain-profile`.
        public var executable: String { "retain-\(rawValue)" }

        /// The full service name the gateway routes, e.g. `retain.v1.Profile`.
        public var serviceName: String { "retain.v1.\(rawValue.prefix(1).uppercased())\(rawValue.dropFirst())" }
    }

    /// How the suite is started.
    public struct Configuration: Sendable {
        /// Where the executables are; default: next to the running executable or test bundle
        /// (``ServerProcess/buildDirectory``).
        public var binDirectory: URL?
        /// Log level of every process; default `warning`.
        public var logLevel = "warning"
        /// Start Growth with `--allow-client-times`, so awards count at their `occurred_at_ms`
        /// (simulated time); default true.
        public var growthClientTimes = true
        /// Each service's `--durability`; default `always` (fsync before answering).
        public var durability = "always"
        /// The gateway's flow configuration file; default nil (the built-in rewards).
        public var gatewayConfig: URL?
        /// The gateway's `--health-interval-ms`; default 200, so a restarted backend is back in
        /// rotation quickly.
        public var healthIntervalMs = 200
        /// Seconds each process may take to listen; default 60.
        public var startTimeout: Duration = .seconds(60)
        /// Check credentials as `retain up` does: a service secret and an admin API key are made
        /// under the root (``adminAuthorization``, ``serviceSecret``); false starts every process
        /// in the explicit insecure development mode. Default true.
        public var secured = true
        /// Give each service its HTTP operations endpoints (`/metrics`, `/healthz`, `/readyz`) on a
        /// free port, as in production; false passes `--ops-port=-1`. The gateway always has
        /// them. Default false.
        public var opsEndpoints = false

        public init() {}
    }

    /// The root holding one data directory per service, the topology and nothing else.
    public let root: URL
    /// The credential of the suite's admin API key (`ApiKey <key>`), for calls to the gateway;
    /// nil when the suite is not secured.
    public let adminAuthorization: String?
    /// The secret every process signs and checks service tokens with (for calling a service
    /// directly with a minted token); nil when the suite is not secured.
    public let serviceSecret: String?
    private let configuration: Configuration
    private let ownsRoot: Bool
    /// The gateway's API key file; nil when the suite is not secured.
    private let keysFile: URL?
    private let lock = NSLock()
    private var processes: [Member: ServerProcess] = [:]
    private var ports: [Member: Int] = [:]
    private var restartCounts: [Member: Int] = [:]

    /// Starts the four services, then the gateway with a topology naming them.
    ///
    /// - Parameters:
    ///   - root: where the data directories go; nil makes a temporary one, removed by ``stop()``.
    ///   - configuration: how to start the processes.
    public init(root: URL? = nil, configuration: Configuration = Configuration()) throws {
        self.configuration = configuration
        self.ownsRoot = root == nil
        self.root = try root ?? makeTemporaryDirectory("retain-suite")
        let credentials: SuiteCredentials?
        do {
            credentials = configuration.secured ? try SuiteCredentials.prepare(data: self.root) : nil
            adminAuthorization = try credentials.map {
                "ApiKey " + (try String(contentsOf: $0.adminKeyFile, encoding: .utf8)).trimmingCharacters(in: .whitespacesAndNewlines)
            }
        } catch {
            if ownsRoot { try? FileManager.default.removeItem(at: self.root) }
            throw error
        }
        serviceSecret = credentials?.secret
        keysFile = credentials?.keysFile
        do {
            for service in Service.allCases {
                try start(.service(service), port: 0)
            }
            let started = lock.withLock { ports }
            let topology = Topology(services: Service.allCases.map { service in
                Topology.Service(name: service.serviceName, instances: [
                    Topology.Instance(id: "\(service.rawValue)-0", host: "127.0.0.1", port: started[.service(service)] ?? 0),
                ])
            })
            try topology.encoded().write(to: topologyFile, options: .atomic)
            try start(.gateway, port: 0)
        } catch {
            for process in lock.withLock({ Array(processes.values) }) { process.kill() }
            if ownsRoot { try? FileManager.default.removeItem(at: self.root) }
            throw error
        }
    }

    /// The gateway's RPC port; it keeps it across restarts.
    public var gatewayPort: Int { rpcPort(of: .gateway) }

    /// The RPC port of `service`; it keeps it across restarts.
    public func port(of service: Service) -> Int {
        rpcPort(of: .service(service))
    }

    /// The data directory of `service`.
    public func dataDirectory(of service: Service) -> URL {
        root.appendingPathComponent(service.rawValue)
    }

    /// Whether `member` runs now.
    public func isRunning(_ member: Member) -> Bool {
        lock.withLock { processes[member]?.process.isRunning ?? false }
    }

    /// The process id of `member` now (for sampling its memory), or nil while it is down.
    public func pid(of member: Member) -> Int32? {
        lock.withLock { processes[member].flatMap { $0.process.isRunning ? $0.process.processIdentifier : nil } }
    }

    /// How often each member was started again by ``restart(_:)``; a member never restarted is
    /// absent.
    public var restarts: [Member: Int] { lock.withLock { restartCounts } }

    /// Kills `member` with SIGKILL (a crash, as far as it can tell) and waits until it is gone.
    public func kill(_ member: Member) {
        let process = lock.withLock { processes[member] }
        process?.kill()
    }

    /// Stops `member` with SIGTERM (a graceful drain) and waits until it is gone; returns its
    /// exit status.
    @discardableResult
    public func stop(_ member: Member) -> Int32? {
        let process = lock.withLock { processes[member] }
        return process?.stop()
    }

    /// Starts `member` again on its port (and a service on its data directory, from whose log
    /// and snapshots it recovers), after a ``kill(_:)`` or ``stop(_:)``; kills it first if it
    /// still runs. Blocks until it listens.
    public func restart(_ member: Member) throws {
        kill(member)
        try start(member, port: rpcPort(of: member))
        lock.withLock { restartCounts[member, default: 0] += 1 }
    }

    /// What `member` logged (standard error) since it last started.
    public func log(of member: Member) -> String {
        lock.withLock { processes[member]?.log ?? "" }
    }

    /// What the gateway logged.
    public var gatewayLog: String { log(of: .gateway) }

    /// Stops the gateway, then the services (SIGTERM, a graceful drain), and removes a
    /// temporary root. Returns each member's exit status.
    @discardableResult
    public func stop() -> [Member: Int32] {
        var statuses: [Member: Int32] = [:]
        for member in Member.allCases.reversed() {
            statuses[member] = stop(member)
        }
        if ownsRoot { try? FileManager.default.removeItem(at: root) }
        return statuses
    }

    private func rpcPort(of member: Member) -> Int {
        lock.withLock { ports[member] ?? 0 }
    }

    private var topologyFile: URL { root.appendingPathComponent("topology.json") }

    /// What a child gets in its environment: the secret, or the explicit insecure mode.
    private var environment: [String: String] {
        serviceSecret.map { ["RETAIN_SERVICE_SECRET": $0] } ?? ["RETAIN_INSECURE_NO_AUTH": "1"]
    }

    /// The command line of `member`, without its port.
    private func arguments(of member: Member) throws -> [String] {
        switch member {
        case .service(let service):
            let directory = dataDirectory(of: service)
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            var arguments = ["--data-dir", directory.path, "--log-level", configuration.logLevel,
                             "--durability", configuration.durability]
            if !configuration.opsEndpoints { arguments.append("--ops-port=-1") }
            if service == .growth, configuration.growthClientTimes { arguments.append("--allow-client-times") }
            return arguments
        case .gateway:
            var arguments = ["--topology", topologyFile.path, "--log-level", configuration.logLevel,
                             "--health-interval-ms", String(configuration.healthIntervalMs)]
            if let config = configuration.gatewayConfig { arguments += ["--config", config.path] }
            if let keysFile { arguments += ["--api-keys-file", keysFile.path] }
            return arguments
        }
    }

    /// Starts `member` on `port` (0: a free one) and records its process and port.
    private func start(_ member: Member, port: Int) throws {
        let binaries = configuration.binDirectory ?? ServerProcess.buildDirectory
        let process = try ServerProcess(executableAt: binaries.appendingPathComponent(member.executable),
                                        arguments: try arguments(of: member), port: port,
                                        timeout: configuration.startTimeout, environment: environment)
        lock.withLock {
            processes[member] = process
            ports[member] = process.port
        }
    }
}
