public import ArgumentParser
import Foundation
import GatewayCore
import RetainCluster
import RetainProcess
import UnixSignals
#if canImport(Glibc)
import Glibc
#endif

/// `retain up`: starts Profile, Growth, Ledger, Feedback and the Gateway as separate processes
/// on one host, each with its own data directory, waits until each is ready, restarts any that
/// crashes (with backoff), and stops them all cleanly on Ctrl-C or SIGTERM.
///
/// With `--replicas N` it starts a local etcd (Debian's `etcd-server`, data in `<data-dir>/etcd`)
/// and N processes per service, the members of one shard that elect their leader in etcd; the
/// gateway follows the leaders (see ``SuitePlan`` for names, ports and directories).
///
/// On first start it makes a service secret and an admin API key under `<data-dir>/secrets`
/// (mode 0600): every child gets the secret as `RETAIN_SERVICE_SECRET`, the gateway gets the key
/// file, and the operator reads the admin key from `secrets/admin.key`.
public struct UpCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "up",
        abstract: "Start the whole suite (four services and the gateway) locally, restart crashes, stop all on Ctrl-C.")

    @Option(name: .customLong("data-dir"), help: "Directory holding one data directory per service, the topology and the logs.")
    var dataDirectory: String = "./data"

    @Option(help: "Address every process listens on.")
    var host: String = "127.0.0.1"

    @Option(name: .customLong("gateway-port")) var gatewayPort: Int = 7000
    @Option(name: .customLong("profile-port")) var profilePort: Int = 7001
    @Option(name: .customLong("growth-port")) var growthPort: Int = 7002
    @Option(name: .customLong("ledger-port")) var ledgerPort: Int = 7003
    @Option(name: .customLong("feedback-port")) var feedbackPort: Int = 7004
    @Option(
        name: .customLong("gateway-grpc-port"),
        help: "Port of the gateway's gRPC front door (standard gRPC over HTTP/2); -1 turns it off.")
    var gatewayGRPCPort: Int = 7100
    @Option(
        name: .customLong("console-port"),
        help: "HTTP port of the operations console (retain-console; open http://HOST:PORT/); -1 turns it off.")
    var consolePort: Int = 8080
    @Option(name: .customLong("console-ops-port")) var consoleOpsPort: Int = 9005
    @Option(name: .customLong("gateway-ops-port")) var gatewayOpsPort: Int = 9000
    @Option(name: .customLong("profile-ops-port")) var profileOpsPort: Int = 9001
    @Option(name: .customLong("growth-ops-port")) var growthOpsPort: Int = 9002
    @Option(name: .customLong("ledger-ops-port")) var ledgerOpsPort: Int = 9003
    @Option(name: .customLong("feedback-ops-port")) var feedbackOpsPort: Int = 9004

    @Option(name: .customLong("bin-dir"), help: "Where the retain-* executables are (default: next to this one).")
    var binDirectory: String?

    @Option(name: .customLong("gateway-config"), help: "Flow configuration file passed to the gateway.")
    var gatewayConfig: String?

    @Option(name: .customLong("log-level"), help: "Log level of every process.")
    var logLevel: String = "info"

    @Option(name: .customLong("ready-timeout"), help: "Seconds to wait for each process to be ready.")
    var readyTimeout: Double = 60

    @Option(name: .customLong("stop-timeout"), help: "Seconds a process may drain after SIGTERM before SIGKILL.")
    var stopTimeout: Double = 10

    @Flag(
        name: .customLong("insecure-no-auth"),
        help: "Run every process without credential checks (local development only).")
    var insecureNoAuth = false

    @Option(
        help:
            "Run each service as one shard of N processes (leader and replicas) with a local etcd; member k listens on the service's ports + 10*k."
    )
    var replicas: Int?

    @Option(help: "The replicated cluster's name in etcd (with --replicas).")
    var cluster: String = ClusterKeys.defaultCluster

    @Option(name: .customLong("etcd-port"), help: "etcd's client port (with --replicas).")
    var etcdPort: Int = 2379

    @Option(name: .customLong("etcd-peer-port"), help: "etcd's peer port (with --replicas).")
    var etcdPeerPort: Int = 2380

    @Option(
        name: .customLong("etcd-executable"),
        help: "The etcd executable (with --replicas; default: $RETAIN_ETCD, or etcd on the PATH, from Debian's etcd-server).")
    var etcdExecutable: String?

    @Option(
        name: .customLong("sync-replicas"),
        help: "Replicas that must hold a write before it is acknowledged (with --replicas; default: the services').")
    var syncReplicas: Int?

    @Option(
        name: .customLong("lease-ttl"), help: "Seconds a leader's lease lives without renewal (with --replicas; default: the services').")
    var leaseTTL: Int?

    public init() {}

    public func validate() throws {
        if let replicas {
            guard (1...SuitePlan.Replication.portStep).contains(replicas) else {
                throw ValidationError("--replicas must be 1 to \(SuitePlan.Replication.portStep)")
            }
            guard !cluster.isEmpty, !cluster.contains("/") else { throw ValidationError("--cluster must be a name without '/'") }
            if let syncReplicas, !(0..<replicas).contains(syncReplicas) {
                throw ValidationError("--sync-replicas must be 0 to \(replicas - 1) (the replicas besides the leader)")
            }
            if let leaseTTL, leaseTTL < 1 { throw ValidationError("--lease-ttl must be at least 1 second") }
        }
        let ports =
            plan(data: URL(fileURLWithPath: dataDirectory), isBuilt: { _ in true }).ports
            + (gatewayGRPCPort == -1 ? [] : [gatewayGRPCPort])
        guard ports.allSatisfy({ (1...65535).contains($0) }) else {
            throw ValidationError("ports must be 1 to 65535 (--gateway-grpc-port: or -1)")
        }
        guard Set(ports).count == ports.count else {
            throw ValidationError(
                "every port must differ from the others" + (replicas == nil ? "" : " (member k of a service uses its ports + 10*k)"))
        }
        guard readyTimeout > 0, stopTimeout > 0 else { throw ValidationError("timeouts must be positive") }
    }

    /// The suite these flags describe.
    func plan(data: URL, gatewayArguments: [String] = [], consoleArguments: [String] = [], isBuilt: (String) -> Bool) -> SuitePlan {
        var replication: SuitePlan.Replication?
        if let replicas {
            var settings = SuitePlan.Replication(replicas: replicas)
            settings.cluster = cluster
            settings.etcdPort = etcdPort
            settings.etcdPeerPort = etcdPeerPort
            if let etcdExecutable { settings.etcdExecutable = URL(fileURLWithPath: etcdExecutable) }
            settings.syncReplicas = syncReplicas
            settings.leaseTTL = leaseTTL
            replication = settings
        }
        return SuitePlan(
            data: data, host: host,
            services: [
                .init(name: "profile", port: profilePort, opsPort: profileOpsPort),
                .init(name: "growth", port: growthPort, opsPort: growthOpsPort),
                .init(name: "ledger", port: ledgerPort, opsPort: ledgerOpsPort),
                .init(name: "feedback", port: feedbackPort, opsPort: feedbackOpsPort),
            ],
            gateway: (gatewayPort, gatewayOpsPort), gatewayArguments: gatewayArguments,
            topologyFile: data.appendingPathComponent("gateway/topology.json"), replication: replication,
            console: consolePort == -1 ? nil : .init(port: consolePort, opsPort: consoleOpsPort, arguments: consoleArguments),
            isBuilt: isBuilt)
    }

    public func run() async throws {
        // Trap the signals first, so that a Ctrl-C during start-up stops what has started.
        let signals = await UnixSignalsSequence(trapping: .sigterm, .sigint)
        let data = URL(fileURLWithPath: dataDirectory).standardizedFileURL
        let logs = data.appendingPathComponent("logs")
        try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
        let binaries = binDirectory.map { URL(fileURLWithPath: $0) } ?? ServerProcess.buildDirectory
        let credentials = insecureNoAuth ? nil : try SuiteCredentials.prepare(data: data)
        let environment = credentials.map { ["RETAIN_SERVICE_SECRET": $0.secret] } ?? ["RETAIN_INSECURE_NO_AUTH": "1"]

        var gatewayArguments: [String] = []
        if let gatewayConfig { gatewayArguments += ["--config", gatewayConfig] }
        if let credentials { gatewayArguments += ["--api-keys-file", credentials.keysFile.path] }
        if gatewayGRPCPort != -1 { gatewayArguments += ["--grpc-port", String(gatewayGRPCPort)] }
        // The console checks sign-ins against the gateway's own key file.
        let consoleArguments = credentials.map { ["--api-keys-file", $0.keysFile.path] } ?? []
        let plan = self.plan(data: data, gatewayArguments: gatewayArguments, consoleArguments: consoleArguments) { executable in
            FileManager.default.isExecutableFile(atPath: binaries.appendingPathComponent(executable).path)
        }
        for executable in plan.skipped {
            print(
                "retain up: warning: \(executable) is not built (no \(binaries.appendingPathComponent(executable).path)); it will not run")
        }
        let gatewayExecutable = binaries.appendingPathComponent("retain-gateway")
        guard FileManager.default.isExecutableFile(atPath: gatewayExecutable.path) else {
            throw ValidationError("retain-gateway is not built (no \(gatewayExecutable.path)); build it with swift build")
        }
        var members: [SupervisedProcess] = []
        for member in plan.members {
            if let directory = member.dataDirectory {
                try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            }
            members.append(
                SupervisedProcess(
                    member: member, executable: binaries.appendingPathComponent(member.executable),
                    logFile: logs.appendingPathComponent("\(member.name).log"), host: host, logLevel: logLevel,
                    environment: environment))
        }
        let topologyFile = data.appendingPathComponent("gateway/topology.json")
        try FileManager.default.createDirectory(at: topologyFile.deletingLastPathComponent(), withIntermediateDirectories: true)
        try plan.topology.encoded().write(to: topologyFile, options: .atomic)
        let skipped = plan.skipped
        let etcdEndpoint = plan.etcdEndpoint

        var etcd: EtcdProcess?
        if let configuration = plan.etcd, let etcdEndpoint {
            print("retain up: starting etcd at \(etcdEndpoint) (data in \(configuration.dataDirectory?.path ?? "-"))")
            fflush(nil)
            do {
                etcd = try EtcdProcess(configuration: configuration)
            } catch {
                throw ValidationError("cannot start etcd, which --replicas needs: \(error)")
            }
        }
        var supervisor = Supervisor(
            members: members, readyTimeout: .milliseconds(Int(readyTimeout * 1000)),
            stopTimeout: .milliseconds(Int(stopTimeout * 1000)))
        supervisor.etcd = etcd
        let (running, notBuilt, host, cluster, grpcPort) = (members, skipped, host, cluster, gatewayGRPCPort)
        let console = plan.members.first { $0.executable == "retain-console" }
        let adminKeyFile = credentials?.adminKeyFile.path
        try await supervisor.run(signals: signals) {
            if let credentials {
                print(
                    "retain up: admin API key in \(credentials.adminKeyFile.path) (export RETAIN_AUTHORIZATION=\"ApiKey $(cat \(credentials.adminKeyFile.path))\"); service secret in \(credentials.secretFile.path)"
                )
            } else {
                print("retain up: WARNING: --insecure-no-auth: every process accepts calls without credentials")
            }
            if let etcdEndpoint {
                print(
                    "retain up: shards elect their leaders in etcd at \(etcdEndpoint); see them with: retain cluster status --etcd-endpoints \(etcdEndpoint) --cluster \(cluster)"
                )
            }
            Self.printTable(members: running, skipped: notBuilt, host: host, logs: logs, topology: topologyFile)
            if grpcPort != -1 {
                print(
                    "retain up: the gateway also speaks standard gRPC on \(host):\(grpcPort) (grpcurl -H \"authorization: ApiKey ...\" \(host):\(grpcPort) list)"
                )
                fflush(nil)
            }
            if let console {
                let dial = host == "0.0.0.0" || host == "::" ? "127.0.0.1" : host
                print(
                    "retain up: the operations console is at http://\(dial):\(console.port)/ "
                        + (adminKeyFile.map { "(sign in with the API key in \($0))" }
                            ?? "(--insecure-no-auth: no API key file, so nobody can sign in)"))
                fflush(nil)
            }
        }
    }

    private static func printTable(members: [SupervisedProcess], skipped: [String], host: String, logs: URL, topology: URL) {
        var rows = [["process", "pid", "rpc", "ops (/metrics /healthz /readyz)", "data"]]
        for member in members {
            let spec = member.member
            let process = spec.executable.hasSuffix(spec.name) ? spec.executable : "\(spec.executable) \(spec.name)"
            rows.append([
                process, member.pid.map(String.init) ?? "-",
                spec.executable == "retain-console" ? "http://\(host):\(spec.port)/" : "\(host):\(spec.port)", "\(host):\(spec.opsPort)",
                spec.dataDirectory?.path
                    ?? (spec.executable == "retain-console" ? "(stateless; calls the gateway)" : "(stateless; topology \(topology.path))"),
            ])
        }
        let widths = rows[0].indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        print("retain up: \(members.count) processes running; logs in \(logs.path)")
        for row in rows {
            let line = row.enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }
                .joined(separator: "  ")
            print(String(line.reversed().drop { $0 == " " }.reversed()))
        }
        if !skipped.isEmpty { print("not running (not built): \(skipped.joined(separator: ", "))") }
        print("retain up: ready; Ctrl-C stops everything")
        fflush(nil)
    }
}
