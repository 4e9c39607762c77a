import Foundation
import Glibc
import NIOCore
import RetainProcess
import RetainProto
import RetainRPC
import RetainWire
import Synchronization

/// A replicated shard of one service: three processes with their own data directories, led
/// through a real etcd, with the faults the replication tests apply to them.
final class ShardHarness: @unchecked Sendable {
    let service: KeyedService
    let etcdEndpoints: String
    let name: String
    let members = ["a", "b", "c"]
    private let lock = NSLock()
    private var processes: [String: ServerProcess] = [:]
    private var ports: [String: Int] = [:]
    private var clients: [String: RPCClient] = [:]
    private let directories: [String: DataDirectory]
    /// Arguments every member gets besides the harness's own (TLS flags).
    private let arguments: [String]
    /// The TLS the harness's clients call the members with, nil for plaintext.
    private let clientTLS: ClientTLS?

    init(_ service: KeyedService, etcdEndpoints: [String], arguments: [String] = [], clientTLS: ClientTLS? = nil) throws {
        self.service = service
        self.arguments = arguments
        self.clientTLS = clientTLS
        self.etcdEndpoints = etcdEndpoints.joined(separator: ",")
        name = service.executable.replacingOccurrences(of: "retain-", with: "") + "-t"
        var directories: [String: DataDirectory] = [:]
        for member in members { directories[member] = try DataDirectory("shard-\(member)") }
        self.directories = directories
    }

    func memberName(_ member: String) -> String { "\(name)-\(member)" }

    /// Starts (or restarts, on its old port) one member.
    func start(_ member: String) throws {
        let port = lock.withLock { ports[member] } ?? 0
        let process = try ServerProcess(
            service.executable,
            arguments: [
                "--data-dir", directories[member]!.path, "--etcd-endpoints", etcdEndpoints, "--shard", name,
                "--member", memberName(member), "--lease-ttl", "2", "--snapshot-every-records", "2000", "--segment-bytes", "262144",
                "--replication-window-bytes", "65536",
            ] + arguments, port: port)
        lock.withLock {
            processes[member] = process
            ports[member] = process.port
            if clients[member] == nil {
                var configuration = RPCClient.Configuration()
                configuration.connectTimeout = .milliseconds(500)
                configuration.tls = clientTLS
                clients[member] = RPCClient(host: "127.0.0.1", port: process.port, configuration: configuration)
            }
        }
    }

    func startAll() throws {
        for member in members { try start(member) }
    }

    func process(_ member: String) -> ServerProcess? { lock.withLock { processes[member] } }
    func client(_ member: String) -> RPCClient { lock.withLock { clients[member]! } }

    func kill(_ member: String) { process(member)?.kill() }

    func signal(_ member: String, _ signal: Int32) {
        if let pid = process(member)?.process.processIdentifier { Glibc.kill(pid, signal) }
    }

    /// The member that says it leads, with the number of replicas in its synchronous set.
    func leader() async -> (member: String, synchronous: Int)? {
        for member in members where process(member)?.process.isRunning == true {
            if let status = try? await status(member), status.role == "leader" {
                return (member, status.replicas.filter(\.synchronous).count)
            }
        }
        return nil
    }

    func status(_ member: String) async throws -> Retain_V1_ReplicationStatus {
        try await client(member).unary(Retain_V1_Replication.getReplicationStatus, .init(), options: CallOptions(timeout: .seconds(1)))
    }

    /// Waits for a leader with at least one synchronous replica (one that can commit).
    func waitForLeader(timeout: Duration = .seconds(20)) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let leader = await leader(), leader.synchronous > 0 { return leader.member }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw HarnessError("no leader with a synchronous replica within \(timeout)")
    }

    /// Whether every running member holds the same log, committed through its end.
    func converged() async -> Bool {
        var positions: [UInt64] = []
        for member in members {
            guard let status = try? await status(member) else { return false }
            guard status.commitSequence == status.lastSequence else { return false }
            positions.append(status.lastSequence)
        }
        return Set(positions).count == 1
    }

    func stop() {
        lock.withLock {
            for process in processes.values {
                if process.process.isRunning { Glibc.kill(process.process.processIdentifier, SIGCONT) }
                process.kill()
            }
        }
        for directory in directories.values { directory.remove() }
    }
}

/// Writes keyed ids through whichever member leads, as a client that follows the leader would,
/// and keeps the oracle: ids confirmed, and ids whose outcome is unknown.
final class LeaderFollowingWriter: Sendable {
    let shard: ShardHarness
    private let state = Mutex<
        (
            acknowledged: [String], unknown: [String], acknowledgedAt: [ContinuousClock.Instant],
            acknowledgedBy: [String]
        )
    >(([], [], [], []))
    private let leader = Mutex<String?>(nil)

    init(_ shard: ShardHarness) { self.shard = shard }

    var acknowledged: [String] { state.withLock { $0.acknowledged } }
    var unknown: [String] { state.withLock { $0.unknown } }
    var acknowledgedAt: [ContinuousClock.Instant] { state.withLock { $0.acknowledgedAt } }
    /// Which member confirmed each write, in the order of ``acknowledged``.
    var acknowledgedBy: [String] { state.withLock { $0.acknowledgedBy } }

    private func currentLeader() async -> String? {
        if let known = leader.withLock({ $0 }) { return known }
        let found = await shard.leader()?.member
        leader.withLock { $0 = found }
        return found
    }

    /// Writes `id` until confirmed, refused for good, or its outcome becomes unknown.
    func write(_ id: String) async {
        let deadline = ContinuousClock.now + .seconds(15)
        while ContinuousClock.now < deadline {
            guard let member = await currentLeader() else {
                try? await Task.sleep(for: .milliseconds(50))
                continue
            }
            do {
                try await shard.service.write(shard.client(member), id)
                state.withLock {
                    $0.acknowledged.append(id)
                    $0.acknowledgedAt.append(.now)
                    $0.acknowledgedBy.append(member)
                }
                return
            } catch let error as RPCError where error.details["not_processed"] == "true" {
                leader.withLock { if $0 == member { $0 = nil } }
                try? await Task.sleep(for: .milliseconds(20))
            } catch {
                // Sent, and no answer: it may or may not have happened.
                leader.withLock { if $0 == member { $0 = nil } }
                state.withLock { $0.unknown.append(id) }
                return
            }
        }
        state.withLock { $0.unknown.append(id) }
    }

    /// `writers` concurrent loops writing fresh ids until `stop` says so.
    func run(writers: Int, prefix: String, until stop: @escaping @Sendable () -> Bool) async {
        await withTaskGroup(of: Void.self) { group in
            for writer in 0..<writers {
                group.addTask {
                    var index = 0
                    while !stop() {
                        await self.write("\(prefix)-\(writer)-\(index)")
                        index += 1
                    }
                }
            }
        }
    }
}
