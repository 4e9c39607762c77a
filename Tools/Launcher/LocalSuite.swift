public import Foundation
import GatewayCore
public import RetainProcess

/// The whole suite (Profile, Growth, Ledger, Feedback and a gateway in front of them) started as
/// child processes on loopback with free ports and data directories under one root: for
/// integration tests and `retain demo`. Unlike `retain up` it does not supervise: a test kills a
/// service on purpose (``kill(_:)``) and starts it again on the same port and data directory
/// (``restart(_:)``), and the gateway finds it there.
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

        public init() {}
    }

    /// The root holding one data directory per service, the topology and nothing else.
    public let root: URL
    /// The gateway's RPC port.
    public let gatewayPort: Int
    /// The credential of the suite's admin API key (`ApiKey <key>`), for calls to the gateway;
    /// nil when the suite is not secured.
    public let adminAuthorization: String?
    /// The secret every process signs and checks service tokens with (for calling a service
    /// directly with a minted token); nil when the suite is not secured.
    public let serviceSecret: String?
    private let configuration: Configuration
    private let ownsRoot: Bool
    private let lock = NSLock()
    private var services: [Service: ServerProcess]
    private var ports: [Service: Int]
    private var gateway: ServerProcess?

    /// Starts the four services, then the gateway with a topology naming them.
    ///
    /// - Parameters:
    ///   - root: where the data directories go; nil makes a temporary one, removed by ``stop()``.
    ///   - configuration: how to start the processes.
    public init(root: URL? = nil, configuration: Configuration = Configuration()) throws {
        self.configuration = configuration
        self.ownsRoot = root == nil
        self.root = try root ?? makeTemporaryDirectory("retain-suite")
        services = [:]
        ports = [:]
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
        do {
            for service in Service.allCases {
                let process = try Self.start(service, root: self.root, configuration: configuration, port: 0,
                                             secret: serviceSecret)
                services[service] = process
                ports[service] = process.port
            }
            let started = ports
            let topology = Topology(services: Service.allCases.map { service in
                Topology.Service(name: service.serviceName, instances: [
                    Topology.Instance(id: "\(service.rawValue)-0", host: "127.0.0.1", port: started[service] ?? 0),
                ])
            })
            let topologyFile = self.root.appendingPathComponent("topology.json")
            try topology.encoded().write(to: topologyFile, options: .atomic)
            var arguments = ["--topology", topologyFile.path, "--log-level", configuration.logLevel,
                             "--health-interval-ms", String(configuration.healthIntervalMs)]
            if let config = configuration.gatewayConfig { arguments += ["--config", config.path] }
            if let credentials { arguments += ["--api-keys-file", credentials.keysFile.path] }
            let gateway = try ServerProcess(executableAt: Self.binaries(configuration).appendingPathComponent("retain-gateway"),
                                            arguments: arguments, timeout: configuration.startTimeout,
                                            environment: Self.environment(secret: serviceSecret))
            self.gateway = gateway
            gatewayPort = gateway.port
        } catch {
            for process in services.values { process.kill() }
            gatewayPort = 0
            if ownsRoot { try? FileManager.default.removeItem(at: self.root) }
            throw error
        }
    }

    /// The RPC port of `service`.
    public func port(of service: Service) -> Int {
        lock.withLock { ports[service] ?? 0 }
    }

    /// The data directory of `service`.
    public func dataDirectory(of service: Service) -> URL {
        root.appendingPathComponent(service.rawValue)
    }

    /// Whether `service` runs now.
    public func isRunning(_ service: Service) -> Bool {
        lock.withLock { services[service]?.process.isRunning ?? false }
    }

    /// Kills `service` with SIGKILL (a crash, as far as it can tell) and waits until it is gone.
    public func kill(_ service: Service) {
        let process = lock.withLock { services[service] }
        process?.kill()
    }

    /// Starts `service` again on its port and data directory (it recovers from its log and
    /// snapshots), after a ``kill(_:)``; kills it first if it still runs.
    public func restart(_ service: Service) throws {
        kill(service)
        let port = port(of: service)
        let process = try Self.start(service, root: root, configuration: configuration, port: port, secret: serviceSecret)
        lock.withLock { services[service] = process }
    }

    /// What `service` logged (standard error) since it last started.
    public func log(of service: Service) -> String {
        lock.withLock { services[service]?.log ?? "" }
    }

    /// What the gateway logged.
    public var gatewayLog: String { lock.withLock { gateway?.log ?? "" } }

    /// Stops the gateway, then the services (SIGTERM, a graceful drain), and removes a
    /// temporary root.
    public func stop() {
        let (gateway, services) = lock.withLock { (self.gateway, self.services) }
        gateway?.stop()
        for process in services.values { process.stop() }
        if ownsRoot { try? FileManager.default.removeItem(at: root) }
    }

    private static func binaries(_ configuration: Configuration) -> URL {
        configuration.binDirectory ?? ServerProcess.buildDirectory
    }

    /// What a child gets in its environment: the secret, or the explicit insecure mode.
    private static func environment(secret: String?) -> [String: String] {
        secret.map { ["RETAIN_SERVICE_SECRET": $0] } ?? ["RETAIN_INSECURE_NO_AUTH": "1"]
    }

    private static func start(
        _ service: Service, root: URL, configuration: Configuration, port: Int, secret: String?
    ) throws -> ServerProcess {
        let directory = root.appendingPathComponent(service.rawValue)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var arguments = ["--data-dir", directory.path, "--log-level", configuration.logLevel,
                         "--durability", configuration.durability, "--ops-port=-1"]
        if service == .growth, configuration.growthClientTimes { arguments.append("--allow-client-times") }
        return try ServerProcess(executableAt: binaries(configuration).appendingPathComponent(service.executable),
                                 arguments: arguments, port: port, timeout: configuration.startTimeout,
                                 environment: environment(secret: secret))
    }
}
