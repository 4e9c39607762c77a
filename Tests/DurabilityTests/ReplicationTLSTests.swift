import Foundation
import RetainProcess
import RetainProto
import RetainRPC
import RetainTestSupport
import RetainWire
import Synchronization
import Testing

/// A replicated shard whose members serve mutual TLS: replicas call their leader over TLS with a
/// client certificate (`--peer-tls-*`), so the shard commits, fails over and converges as it does
/// in plaintext; a member that serves TLS but could not call its peers over it refuses to start.
@Suite("Replication over TLS", .serialized)
struct ReplicationTLSTests {
    @Test("members serving mutual TLS replicate over it: writes through the leader reach every member, a SIGKILLed leader is replaced")
    func mutualTLS() async throws {
        let certificates = try TestCertificates.shared()
        let etcd = try EtcdProcess()
        defer { etcd.shutdown() }
        // The server certificate is also a client certificate (clientAuth): each member presents
        // it to its leader.
        let arguments = [
            "--tls-cert-file", certificates.serverCertificateFile, "--tls-key-file", certificates.serverKeyFile,
            "--tls-client-ca-file", certificates.caFile, "--peer-tls-ca-file", certificates.caFile,
            "--peer-tls-cert-file", certificates.serverCertificateFile, "--peer-tls-key-file", certificates.serverKeyFile,
        ]
        let clientTLS = try ClientTLS(
            caFile: certificates.caFile, certificateFile: certificates.clientCertificateFile, keyFile: certificates.clientKeyFile,
            serverHostname: nil)
        let shard = try ShardHarness(.ledger, etcdEndpoints: [etcd.endpoint], arguments: arguments, clientTLS: clientTLS)
        defer { shard.stop() }
        try shard.startAll()
        // A leader with a synchronous replica: a replica followed it over TLS (before, members
        // serving TLS called their leader in plaintext and none ever caught up).
        let first = try await shard.waitForLeader()
        try await shard.service.setUp(shard.client(first))
        let writer = LeaderFollowingWriter(shard)
        let stop = Atomic<Bool>(false)
        let load = Task { await writer.run(writers: 4, prefix: "tls", until: { stop.load(ordering: .relaxed) }) }
        try await Task.sleep(for: .seconds(1))
        shard.kill(first)
        #expect(
            await eventually(timeout: .seconds(10)) { await shard.leader().map { $0.member != first } ?? false },
            "no member took over from the SIGKILLed leader")
        try await Task.sleep(for: .seconds(1))
        stop.store(true, ordering: .relaxed)
        await load.value
        try shard.start(first)
        let leader = try await shard.waitForLeader()
        let acknowledged = writer.acknowledged
        #expect(!acknowledged.isEmpty)
        let present = try await shard.service.present(shard.client(leader), acknowledged)
        #expect(Set(acknowledged).subtracting(present).isEmpty, "confirmed writes missing on the leader")
        #expect(await eventually(timeout: .seconds(20)) { await shard.converged() }, "the members did not converge over TLS")
    }

    @Test("a replicated member serving TLS without --peer-tls flags, or requiring client certificates without its own, refuses to start")
    func refusesWithoutPeerTLS() throws {
        let certificates = try TestCertificates.shared()
        let directory = try makeTemporaryDirectory("tls-member")
        defer { try? FileManager.default.removeItem(at: directory) }
        let base = [
            "--data-dir", directory.path, "--etcd-endpoints", "http://127.0.0.1:1", "--tls-cert-file",
            certificates.serverCertificateFile, "--tls-key-file", certificates.serverKeyFile,
        ]
        for (arguments, flag) in [
            (base, "--peer-tls-ca-file"),
            (base + ["--tls-client-ca-file", certificates.caFile, "--peer-tls-ca-file", certificates.caFile], "--peer-tls-cert-file"),
        ] {
            do {
                let process = try ServerProcess("retain-ledger", arguments: arguments, timeout: .seconds(10))
                process.kill()
                Issue.record("started without \(flag)")
            } catch ServerProcessError.didNotStart(_, let output, let log) {
                #expect((output + log).contains(flag), "\(output)\(log)")
            }
        }
    }
}
