import Foundation
import RetainProcess
import RetainProto
import RetainRPC
import RetainTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Whether the built services take the replication flags (`--etcd-endpoints`).
enum ReplicationSupport {
    static var servicesReplicate: Bool {
        guard let help = try? CommandRun("retain-ledger", ["serve", "--help"]) else { return false }
        return (help.stdout + help.stderr).contains("--etcd-endpoints")
    }
}

/// `retain up --replicas 3` with the real executables: etcd, three members per service, each
/// shard electing a leader, the gateway routing to the leaders and following a failover. Runs
/// once the services take the replication flags (`--etcd-endpoints`).
@Suite(
    "retain up --replicas 3", .serialized,
    .enabled(if: ReplicationSupport.servicesReplicate, "the services do not take --etcd-endpoints yet"))
struct ReplicatedLauncherTests {
    static let shards = ["feedback-0", "growth-0", "ledger-0", "profile-0"]

    /// `retain cluster status --json`, parsed: shard name -> shard object.
    func status(etcd: String) throws -> [String: [String: Any]] {
        let data = Data(try CommandRun("retain", ["cluster", "status", "--etcd-endpoints", etcd, "--json"]).stdout.utf8)
        let root = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        let shards = root?["shards"] as? [[String: Any]] ?? []
        return Dictionary(shards.compactMap { shard in (shard["shard"] as? String).map { ($0, shard) } }, uniquingKeysWith: { $1 })
    }

    /// The leader of each shard once every shard has one and three live members.
    func waitForLeaders(etcd: String, timeout: Duration) async throws -> [String: [String: Any]] {
        let deadline = ContinuousClock.now + timeout
        var last: [String: [String: Any]] = [:]
        while ContinuousClock.now < deadline {
            last = (try? status(etcd: etcd)) ?? [:]
            let ready = Self.shards.allSatisfy { name in
                guard let shard = last[name], shard["leader"] is [String: Any],
                    let members = shard["members"] as? [[String: Any]]
                else { return false }
                return members.filter { $0["alive"] as? Bool == true }.count == 3
            }
            if ready { return last.compactMapValues { $0["leader"] as? [String: Any] } }
            try await Task.sleep(for: .milliseconds(200))
        }
        Issue.record("shards without a leader or three members after \(timeout): \(last)")
        throw CancellationError()
    }

    /// A base port B with B..B+31 free (member k of a service uses its ports + 10k).
    func freeBase() throws -> Int {
        for _ in 0..<50 {
            let base = Int.random(in: 20_000...55_000)
            let ports = (0..<32).map { base + $0 }
            if ports.allSatisfy(Self.isFree) { return base }
        }
        throw CancellationError()
    }

    static func isFree(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }

    @Test(
        "each shard elects a leader, the gateway routes to it and follows the next one when the leader is killed; a write during the failover is answered"
    )
    func electsRoutesFailsOver() async throws {
        let data = try makeTemporaryDirectory("retain-up-replicas")
        defer { try? FileManager.default.removeItem(at: data) }
        let base = try freeBase()
        // Layout: gateway base, ops base+1; services base+2...+5 (members +10, +20), ops base+6...+9; etcd base+30, +31.
        var arguments = [
            "up", "--replicas", "3", "--insecure-no-auth", "--data-dir", data.path, "--stop-timeout", "5",
            "--gateway-port", String(base), "--gateway-ops-port", String(base + 1),
            "--etcd-port", String(base + 30), "--etcd-peer-port", String(base + 31), "--lease-ttl", "2",
            "--gateway-grpc-port", String(base + 10),
        ]
        for (index, name) in ["profile", "growth", "ledger", "feedback"].enumerated() {
            arguments += ["--\(name)-port", String(base + 2 + index), "--\(name)-ops-port", String(base + 6 + index)]
        }
        let etcd = "http://127.0.0.1:\(base + 30)"
        let process = Process()
        process.executableURL = ServerProcess.buildDirectory.appendingPathComponent("retain")
        process.arguments = arguments
        let output = OutputCollector()
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        pipe.fileHandleForReading.readabilityHandler = { handle in output.append(handle.availableData) }
        try process.run()
        // On a failure, stop it with SIGTERM so that it stops its children (a SIGKILL would leave
        // thirteen processes and etcd behind).
        defer {
            if process.isRunning { kill(process.processIdentifier, SIGTERM) }
            for _ in 0..<600 where process.isRunning { usleep(100_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }

        try await output.waitFor("retain up: ready", timeout: .seconds(120))
        let leaders = try await waitForLeaders(etcd: etcd, timeout: .seconds(60))
        let client = RPCClient(host: "127.0.0.1", port: base)
        let backends = { try await client.unary(Retain_V1_Gateway.listBackends, .init()).backends }
        // The gateway routes each shard to its leader.
        let deadline = ContinuousClock.now + .seconds(10)
        var routed: [String: String] = [:]
        while ContinuousClock.now < deadline {
            routed = Dictionary(try await backends().map { ($0.instanceId, $0.address) }, uniquingKeysWith: { $1 })
            if Self.shards.allSatisfy({ routed[$0] == leaders[$0]?["address"] as? String }) { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        for shard in Self.shards {
            #expect(routed[shard] == leaders[shard]?["address"] as? String, "\(shard) routed to \(routed[shard] ?? "-")")
        }

        // SIGKILL the ledger's leader: a leader of a new epoch comes within the lease TTL and a
        // little more, and the gateway routes there.
        let old = try #require(leaders["ledger-0"])
        let oldPID = try #require(old["pid"] as? Int)
        kill(Int32(oldPID), SIGKILL)
        let failover = ContinuousClock.now + .seconds(10)
        var newLeader: [String: Any]?
        while ContinuousClock.now < failover {
            // A new epoch: another member, or the killed one restarted by `retain up` and elected again.
            if let leader = try? status(etcd: etcd)["ledger-0"]?["leader"] as? [String: Any],
                (leader["epoch"] as? Int ?? 0) > (old["epoch"] as? Int ?? 0), leader["pid"] as? Int != oldPID
            {
                newLeader = leader
                break
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        let next = try #require(newLeader, "no new ledger leader within 10 s")
        let moved = ContinuousClock.now + .seconds(5)
        var address = ""
        while ContinuousClock.now < moved {
            address = try await backends().first { $0.instanceId == "ledger-0" }?.address ?? ""
            if address == next["address"] as? String { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(address == next["address"] as? String)

        // A write through the gateway while the profile's leader is gone is answered by the next
        // leader, the caller none the wiser; what was acknowledged before is still there.
        let options = { (key: String) in CallOptions(timeout: .seconds(20), idempotencyKey: key) }
        _ = try await client.unary(Retain_V1_Profile.registerUser, .init(userId: "u-before"), options: options("before"))
        let profileLeader = try #require(leaders["profile-0"]?["pid"] as? Int)
        kill(Int32(profileLeader), SIGKILL)
        let started = ContinuousClock.now
        _ = try await client.unary(Retain_V1_Profile.registerUser, .init(userId: "u-during"), options: options("during"))
        #expect(ContinuousClock.now - started < .seconds(10))
        for user in ["u-before", "u-during"] {
            let profile = try await client.unary(Retain_V1_Profile.getProfile, .init(userId: user), options: options(""))
            #expect(profile.profile?.userId == user)
        }
        await client.close()

        kill(process.processIdentifier, SIGTERM)
        let stopDeadline = ContinuousClock.now + .seconds(60)
        while process.isRunning, ContinuousClock.now < stopDeadline { try await Task.sleep(for: .milliseconds(100)) }
        #expect(!process.isRunning)
        #expect(output.text.contains("retain up: etcd stopped"))
        #expect(FileManager.default.fileExists(atPath: data.appendingPathComponent("etcd").path))
        #expect(FileManager.default.fileExists(atPath: data.appendingPathComponent("ledger-0-c").path))
    }
}
