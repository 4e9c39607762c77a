public import Foundation
import GatewayCore
public import RetainProcess

/// The whole suite (Profile, Growth, Ledger, Feedback and a gateway in front of them) started as
/// child processes on loopback with free ports and data directories under one root: for
/// integration tests, `retain demo` and `retain soak`. Unlike `retain up` it does not supervise: a
/// caller kills a member on purpose (``kill(_:)``, a crash) or stops it (``stop(_:)``, a graceful
/// drain) and starts it again on the same port and data directory (``restart(_:)``), and the
/// gateway (or its clients, for the gateway) find it there.
///
/// With ``Configuration/replicas`` it runs replicated as `retain up --replicas N` does (the same
/// member names and flags, from ``SuitePlan/Replication``): a local etcd under the root, N
/// members per service (``Member/replica(_:_:)``) electing their shard's leader there, and the
/// gateway following the leaders (see `LocalSuite+Replication.swift`).
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
        /// Members per service's shard, with a local etcd (data in `<root>/etcd`), as
        /// `retain up --replicas N`; nil (the default) runs one process per service.
        public var replicas: Int?
        /// Each member's `--lease-ttl` in seconds, with ``replicas``; nil (the default) leaves
        /// the services' default (2 s).
        public var leaseTTL: Int?
        /// Each member's `--sync-replicas`, with ``replicas``; nil (the default) leaves the
        /// services' default (1).
        public var syncReplicas: Int?
        /// More arguments for the gateway (e.g. `--campaign-interval-ms 200`); default none.
        public var gatewayArguments: [String] = []

        public init() {}
    }

    /// The root holding one data directory per service (per member, when replicated), the
    /// topology, etcd's data and the credentials.
    public let root: URL
    /// The processes of the suite, in start order (the gateway last).
    public let members: [Member]
    /// The local etcd of a replicated suite; nil without replicas.
    public let etcd: EtcdProcess?
    /// The credential of the suite's admin API key (`ApiKey <key>`), for calls to the gateway;
    /// nil when the suite is not secured.
    public let adminAuthorization: String?
    /// The secret every process signs and checks service tokens with (for calling a service
    /// directly with a minted token); nil when the suite is not secured.
    public let serviceSecret: String?
    private let configuration: Configuration
    /// The replicated suite's settings (cluster name, sync, lease), as `retain up` has them.
    let replication: SuitePlan.Replication?
    private let ownsRoot: Bool
    /// The gateway's API key file; nil when the suite is not secured.
    private let keysFile: URL?
    private let lock = NSLock()
    private var processes: [Member: ServerProcess] = [:]
    private var ports: [Member: Int] = [:]
    private var restartCounts: [Member: Int] = [:]
    private var suspended: Set<Member> = []

    /// Starts the four services, then the gateway with a topology naming them.
    ///
    /// - Parameters:
    ///   - root: where the data directories go; nil makes a temporary one, removed by ``stop()``.
    ///   - configuration: how to start the processes.
    public init(root: URL? = nil, configuration: Configuration = Configuration()) throws {
        self.configuration = configuration
        self.ownsRoot = root == nil
        self.root = try root ?? makeTemporaryDirectory("retain-suite")
        if let replicas = configuration.replicas {
            var replication = SuitePlan.Replication(replicas: replicas)
            replication.leaseTTL = configuration.leaseTTL
            replication.syncReplicas = configuration.syncReplicas
            self.replication = replication
            members = Service.allCases.flatMap { service in (0..<replicas).map { Member.replica(service, $0) } } + [.gateway]
        } else {
            replication = nil
            members = Member.allCases
        }
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
            if replication != nil {
                var etcdConfiguration = EtcdProcess.Configuration()
                etcdConfiguration.dataDirectory = self.root.appendingPathComponent("etcd")
                etcd = try EtcdProcess(configuration: etcdConfiguration)
            } else {
                etcd = nil
            }
        } catch {
            if ownsRoot { try? FileManager.default.removeItem(at: self.root) }
            throw error
        }
        do {
            for member in members where member != .gateway {
                try start(member, port: 0)
            }
            // The ring's instance of a replicated service is its shard; its address follows the
            // leader, the first member's until etcd names one.
            let topology = Topology(
                services: Service.allCases.map { service in
                    Topology.Service(
                        name: service.serviceName,
                        instances: [
                            Topology.Instance(
                                id: SuitePlan.Replication.shard(of: service.rawValue), host: "127.0.0.1", port: port(of: service))
                        ])
                })
            try topology.encoded().write(to: topologyFile, options: .atomic)
            try start(.gateway, port: 0)
        } catch {
            for process in lock.withLock({ Array(processes.values) }) { process.kill() }
            etcd?.shutdown()
            if ownsRoot { try? FileManager.default.removeItem(at: self.root) }
            throw error
        }
    }

    /// The gateway's RPC port; it keeps it across restarts.
    public var gatewayPort: Int { rpcPort(of: .gateway) }

    /// The RPC port of `service` (of its shard's first member, when replicated); it keeps it
    /// across restarts.
    public func port(of service: Service) -> Int {
        rpcPort(of: replication == nil ? .service(service) : .replica(service, 0))
    }

    /// The RPC port of `member`; it keeps it across restarts.
    public func port(of member: Member) -> Int {
        rpcPort(of: member)
    }

    /// The data directory of `service` (of its shard's first member, when replicated).
    public func dataDirectory(of service: Service) -> URL {
        dataDirectory(of: replication == nil ? .service(service) : .replica(service, 0))
    }

    /// The data directory of `member`, named after it (none for the gateway: a path never made).
    public func dataDirectory(of member: Member) -> URL {
        root.appendingPathComponent(member.name)
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
    /// exit status. A suspended member is resumed first, so that it can drain.
    @discardableResult
    public func stop(_ member: Member) -> Int32? {
        resume(member)
        let process = lock.withLock { processes[member] }
        return process?.stop()
    }

    /// Suspends `member` with SIGSTOP (a paused process, or one cut off: its sockets stay open
    /// and nothing answers) until ``resume(_:)``.
    public func suspend(_ member: Member) {
        guard let pid = pid(of: member) else { return }
        lock.withLock { _ = suspended.insert(member) }
        Foundation.kill(pid, SIGSTOP)
    }

    /// Resumes a member suspended by ``suspend(_:)`` with SIGCONT.
    public func resume(_ member: Member) {
        guard lock.withLock({ suspended.remove(member) }) != nil, let pid = pid(of: member) else { return }
        Foundation.kill(pid, SIGCONT)
    }

    /// Starts `member` again on its port (and a service on its data directory, from whose log
    /// and snapshots it recovers), after a ``kill(_:)`` or ``stop(_:)``; kills it first if it
    /// still runs. Blocks until it listens.
    public func restart(_ member: Member) throws {
        kill(member)
        lock.withLock { _ = suspended.remove(member) }
        try start(member, port: rpcPort(of: member))
        lock.withLock { restartCounts[member, default: 0] += 1 }
    }

    /// What `member` logged (standard error) since it last started.
    public func log(of member: Member) -> String {
        lock.withLock { processes[member]?.log ?? "" }
    }

    /// What the gateway logged.
    public var gatewayLog: String { log(of: .gateway) }

    /// Stops the gateway, then the services (SIGTERM, a graceful drain), then etcd, and removes
    /// a temporary root. Returns each member's exit status.
    @discardableResult
    public func stop() -> [Member: Int32] {
        var statuses: [Member: Int32] = [:]
        for member in members.reversed() {
            statuses[member] = stop(member)
        }
        etcd?.shutdown()
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
        case .service(let service), .replica(let service, _):
            let directory = dataDirectory(of: member)
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            var arguments = [
                "--data-dir", directory.path, "--log-level", configuration.logLevel,
                "--durability", configuration.durability,
            ]
            if !configuration.opsEndpoints { arguments.append("--ops-port=-1") }
            if service == .growth, configuration.growthClientTimes { arguments.append("--allow-client-times") }
            if let replication, let etcd {
                // It advertises the address it listens on (its port is picked at its first start).
                let shard = SuitePlan.Replication.shard(of: service.rawValue)
                arguments += replication.memberArguments(etcdEndpoint: etcd.endpoint, shard: shard, member: member.name, advertise: nil)
            }
            return arguments
        case .gateway:
            var arguments = [
                "--topology", topologyFile.path, "--log-level", configuration.logLevel,
                "--health-interval-ms", String(configuration.healthIntervalMs),
            ]
            if let config = configuration.gatewayConfig { arguments += ["--config", config.path] }
            arguments += configuration.gatewayArguments
            if let keysFile { arguments += ["--api-keys-file", keysFile.path] }
            if let replication, let etcd { arguments += replication.gatewayArguments(etcdEndpoint: etcd.endpoint) }
            return arguments
        }
    }

    /// Starts `member` on `port` (0: a free one) and records its process and port.
    private func start(_ member: Member, port: Int) throws {
        let binaries = configuration.binDirectory ?? ServerProcess.buildDirectory
        let process = try ServerProcess(
            executableAt: binaries.appendingPathComponent(member.executable),
            arguments: try arguments(of: member), port: port,
            timeout: configuration.startTimeout, environment: environment)
        lock.withLock {
            processes[member] = process
            ports[member] = process.port
        }
    }
}
