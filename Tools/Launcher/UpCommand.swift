public import ArgumentParser
import Foundation
import GatewayCore
import RetainProcess
import UnixSignals
#if canImport(Glibc)
import Glibc
#endif

/// `retain up`: starts Profile, Growth, Ledger, Feedback and the Gateway as separate processes
/// on one host, each with its own data directory, waits until each is ready, restarts any that
/// crashes (with backoff), and stops them all cleanly on Ctrl-C or SIGTERM.
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

    @Flag(name: .customLong("insecure-no-auth"),
          help: "Run every process without credential checks (local development only).")
    var insecureNoAuth = false

    public init() {}

    public func validate() throws {
        let ports = [gatewayPort, profilePort, growthPort, ledgerPort, feedbackPort,
                     gatewayOpsPort, profileOpsPort, growthOpsPort, ledgerOpsPort, feedbackOpsPort]
        guard ports.allSatisfy({ (1...65535).contains($0) }) else { throw ValidationError("ports must be 1 to 65535") }
        guard Set(ports).count == ports.count else { throw ValidationError("every port must differ from the others") }
        guard readyTimeout > 0, stopTimeout > 0 else { throw ValidationError("timeouts must be positive") }
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

        let backends: [(String, String, Int, Int)] = [
            ("profile", "retain.v1.Profile", profilePort, profileOpsPort),
            ("growth", "retain.v1.Growth", growthPort, growthOpsPort),
            ("ledger", "retain.v1.Ledger", ledgerPort, ledgerOpsPort),
            ("feedback", "retain.v1.Feedback", feedbackPort, feedbackOpsPort),
        ]
        var members: [SupervisedProcess] = []
        var skipped: [String] = []
        for (name, service, port, opsPort) in backends {
            let executable = binaries.appendingPathComponent("retain-\(name)")
            guard FileManager.default.isExecutableFile(atPath: executable.path) else {
                print("retain up: warning: retain-\(name) is not built (no \(executable.path)); \(service) will not run")
                skipped.append("retain-\(name)")
                continue
            }
            let directory = data.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            members.append(SupervisedProcess(
                member: SuiteMember(name: name, executable: "retain-\(name)", service: service, port: port, opsPort: opsPort,
                                    dataDirectory: directory, extraArguments: []),
                executable: executable, logFile: logs.appendingPathComponent("\(name).log"), host: host, logLevel: logLevel,
                environment: environment))
        }
        let gatewayExecutable = binaries.appendingPathComponent("retain-gateway")
        guard FileManager.default.isExecutableFile(atPath: gatewayExecutable.path) else {
            throw ValidationError("retain-gateway is not built (no \(gatewayExecutable.path)); build it with swift build")
        }
        let gatewayDirectory = data.appendingPathComponent("gateway")
        try FileManager.default.createDirectory(at: gatewayDirectory, withIntermediateDirectories: true)
        let topologyFile = gatewayDirectory.appendingPathComponent("topology.json")
        let dialHost = host == "0.0.0.0" || host == "::" ? "127.0.0.1" : host
        let topology = Topology(services: members.map { member in
            Topology.Service(name: member.member.service, instances: [
                Topology.Instance(id: "\(member.member.name)-0", host: dialHost, port: member.member.port),
            ])
        })
        try topology.encoded().write(to: topologyFile, options: .atomic)
        var gatewayArguments = ["--topology", topologyFile.path]
        if let gatewayConfig { gatewayArguments += ["--config", gatewayConfig] }
        if let credentials { gatewayArguments += ["--api-keys-file", credentials.keysFile.path] }
        let gateway = SupervisedProcess(
            member: SuiteMember(name: "gateway", executable: "retain-gateway", service: "retain.v1.Gateway", port: gatewayPort,
                                opsPort: gatewayOpsPort, dataDirectory: nil, extraArguments: gatewayArguments),
            executable: gatewayExecutable, logFile: logs.appendingPathComponent("gateway.log"), host: host, logLevel: logLevel,
            environment: environment)
        members.append(gateway)

        let supervisor = Supervisor(members: members, readyTimeout: .milliseconds(Int(readyTimeout * 1000)),
                                    stopTimeout: .milliseconds(Int(stopTimeout * 1000)))
        let (running, notBuilt, host) = (members, skipped, host)
        try await supervisor.run(signals: signals) {
            if let credentials {
                print("retain up: admin API key in \(credentials.adminKeyFile.path) (export RETAIN_AUTHORIZATION=\"ApiKey $(cat \(credentials.adminKeyFile.path))\"); service secret in \(credentials.secretFile.path)")
            } else {
                print("retain up: WARNING: --insecure-no-auth: every process accepts calls without credentials")
            }
            Self.printTable(members: running, skipped: notBuilt, host: host, logs: logs, topology: topologyFile)
        }
    }

    private static func printTable(members: [SupervisedProcess], skipped: [String], host: String, logs: URL, topology: URL) {
        var rows = [["process", "pid", "rpc", "ops (/metrics /healthz /readyz)", "data"]]
        for member in members {
            let spec = member.member
            rows.append([spec.executable, member.pid.map(String.init) ?? "-", "\(host):\(spec.port)", "\(host):\(spec.opsPort)",
                         spec.dataDirectory?.path ?? "(stateless; topology \(topology.path))"])
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
