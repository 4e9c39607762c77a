public import ArgumentParser
import Foundation

/// `retain soak`: starts the four services and the gateway as real processes (authentication
/// on), runs mixed load for `--duration` while it kills, stops and restarts members and cuts
/// client connections, then checks that every acknowledged write is present exactly once and
/// prints calls, faults, the verification and each process's resident memory over time.
/// Exits 1 when any acknowledged write was lost or duplicated.
///
/// With `--replicas N` the suite is replicated as `retain up --replicas N` runs it (a local etcd,
/// N members per service's shard, the gateway following the leaders), all load goes through the
/// gateway, and the faults hit each shard's current leader and replicas (docs/REPLICATION.md,
/// "Soak").
public struct SoakCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "soak",
        abstract: "Run the suite under mixed load with faults; verify every acknowledged write and report memory.",
        discussion: """
            Without --replicas: one process per service; the faults are SIGKILL and SIGTERM of each \
            service and the gateway (each restarted on its data directory) and cut client connections, \
            half the load straight to the services.

            With --replicas N (needs etcd, Debian's etcd-server, or $RETAIN_ETCD): a local etcd and N \
            processes per service's shard, as `retain up --replicas N`; all load goes through the gateway, \
            and the faults hit the shard's current leader, found in etcd: SIGKILL the leader (then restart \
            it), SIGSTOP it for twice --lease-ttl then SIGCONT, SIGKILL a replica (then restart it), and \
            cut client connections. The report gives each fault's failover time: from the fault to the \
            next write of that service answered OK.
            """)

    @Option(help: "Seconds of load.")
    var duration: Int = 180

    @Option(help: "Operations in flight at once.")
    var concurrency: Int = 8

    @Option(name: .customLong("fault-interval"), help: "Seconds between faults.")
    var faultInterval: Double = 20

    @Option(name: .customLong("bin-dir"), help: "Where the retain-* executables are (default: next to this one).")
    var binDirectory: String?

    @Option(name: .customLong("data-dir"), help: "Directory for the data directories (default: a temporary one, removed afterwards).")
    var dataDirectory: String?

    @Option(help: "Run each service as a shard of N processes (leader and replicas) with a local etcd, and hit the leaders.")
    var replicas: Int?

    @Option(
        name: .customLong("lease-ttl"),
        help: "The leaders' lease in seconds (with --replicas); a paused leader stays stopped twice as long.")
    var leaseTTL: Int = 2

    public init() {}

    public func validate() throws {
        guard duration > 0, concurrency > 0, faultInterval > 0 else {
            throw ValidationError("--duration, --concurrency and --fault-interval must be positive")
        }
        if let replicas, !(2...9).contains(replicas) {
            throw ValidationError("--replicas must be 2 to 9 (a leader and at least one replica)")
        }
        guard leaseTTL >= 1 else { throw ValidationError("--lease-ttl must be at least 1 second") }
    }

    public func run() async throws {
        var configuration = SoakRun.Configuration()
        configuration.duration = .seconds(duration)
        configuration.concurrency = concurrency
        configuration.faultInterval = .milliseconds(Int(faultInterval * 1000))
        if let binDirectory { configuration.binaries = URL(fileURLWithPath: binDirectory) }
        configuration.dataDirectory = dataDirectory.map { URL(fileURLWithPath: $0) }
        configuration.replicas = replicas
        configuration.leaseTTL = leaseTTL
        let report = try await SoakRun(configuration: configuration).run { line in
            print("retain soak: \(line)")
            fflush(nil)
        }
        print(report.text)
        if !report.passed { throw ExitCode(1) }
    }
}
