import Logging
import NIOCore
import RetainProto
@testable import RetainReplication
import RetainRPC
import RetainWire
import RetainState
import RetainStorage
import Synchronization
import Testing

@Suite("Acknowledger: a replica's durable point leaves from the durable tap, never past what it holds and agreed", .serialized)
struct AcknowledgerTests {
    /// A replica's log as far as acknowledging goes: how far it is applied and durable.
    final class FakeLog: ReplicatedLog {
        let positions = Mutex<(last: UInt64, durable: UInt64)>((0, 0))
        let gate = CommitGate()
        var lastSequence: UInt64 { positions.withLock { $0.last } }
        var durableSequence: UInt64 { positions.withLock { $0.durable } }
        var commitGate: CommitGate? { gate }
        func setReplicationTaps(_ taps: ReplicationTaps?) {}
        func logCursor(after sequence: UInt64) throws -> LogCursor? { nil }
        func applyReplicated(firstSequence: UInt64, frames: [UInt8]) throws -> UInt64 { 0 }
        func rebuild(keepingThrough sequence: UInt64) throws {}
        func newestSnapshot() throws -> (path: String, coveredSequence: UInt64)? { nil }
        var incomingSnapshotPath: String? { nil }
        func installSnapshot(covering sequence: UInt64) throws {}
        func set(last: UInt64, durable: UInt64) { positions.withLock { $0 = (last, durable) } }
    }

    /// A leader that records the acknowledgements it is sent and answers with `commit`.
    final class Leader: Sendable {
        let received = Mutex<[Retain_V1_ReplicaAcknowledgement]>([])
        let commit = Atomic<UInt64>(0)
        let refusing = Atomic<Bool>(false)
        var durablePoints: [UInt64] { received.withLock { $0.map(\.durableSequence) } }

        func server() -> RPCServer {
            var router = RPCRouter()
            router.unary(Retain_V1_Replication.acknowledge) { [self] request, _ in
                if refusing.load(ordering: .relaxed) { throw RPCError(.unavailable, "refused") }
                received.withLock { $0.append(request) }
                return Retain_V1_AcknowledgementResult(commitSequence: commit.load(ordering: .relaxed))
            }
            var configuration = RPCServer.Configuration()
            configuration.port = 0
            return RPCServer(router: router, configuration: configuration, logger: Logger(label: "leader"))
        }
    }

    private func eventually(_ condition: () -> Bool) async throws {
        for _ in 0..<500 where !condition() { try await Task.sleep(for: .milliseconds(10)) }
    }

    @Test("sends min(durable, agreed) from the tap once connected; the answer's commit point reaches the gate")
    func acknowledges() async throws {
        let leader = Leader()
        let server = leader.server()
        let client = RPCClient(host: "127.0.0.1", port: try await server.start().port!)
        let log = FakeLog()
        let agreed = Atomic<UInt64>(0)
        let fallback = AsyncSignal()
        let acknowledger = Acknowledger(
            member: "b", epoch: 4, client: client, log: log, gate: log.gate,
            agreedThrough: { agreed.load(ordering: .relaxed) }, fallback: fallback)

        log.set(last: 5, durable: 5)
        agreed.store(3, ordering: .relaxed)
        // No connection is up yet: nothing leaves, the loop is told to send it.
        acknowledger.acknowledgeNow()
        #expect(acknowledger.needsLoop)
        #expect(leader.durablePoints.isEmpty)
        // The loop connects and sends what may be acknowledged: 3 (agreed), not 5 (durable).
        _ = try await client.unary(
            Retain_V1_Replication.acknowledge,
            Retain_V1_ReplicaAcknowledgement(member: "b", epoch: 4, durableSequence: acknowledger.acknowledgeable))
        acknowledger.sentByLoop(3)
        #expect(!acknowledger.needsLoop)
        #expect(leader.durablePoints == [3])

        // From now on the tap sends at once; only what moved.
        acknowledger.acknowledgeNow()
        agreed.store(9, ordering: .relaxed)
        leader.commit.store(5, ordering: .relaxed)
        acknowledger.acknowledgeNow()
        try await eventually { leader.durablePoints.count == 2 && log.gate.committedSequence == 5 }
        #expect(leader.durablePoints == [3, 5], "durable (5) bounds it now")
        #expect(leader.received.withLock { $0.allSatisfy { $0.member == "b" && $0.epoch == 4 } })
        #expect(log.gate.committedSequence == 5)

        // The commit point never passes what this replica holds.
        log.set(last: 7, durable: 7)
        leader.commit.store(100, ordering: .relaxed)
        acknowledger.acknowledgeNow()
        try await eventually { log.gate.committedSequence == 7 }
        #expect(leader.durablePoints == [3, 5, 7])
        #expect(log.gate.committedSequence == 7)
        await client.close()
        server.drain()
    }

    @Test("a refused acknowledgement is handed to the loop and sent again")
    func refused() async throws {
        let leader = Leader()
        let server = leader.server()
        let client = RPCClient(host: "127.0.0.1", port: try await server.start().port!)
        let log = FakeLog()
        let acknowledger = Acknowledger(
            member: "b", epoch: 4, client: client, log: log, gate: log.gate, agreedThrough: { 100 }, fallback: AsyncSignal())
        // Connects.
        _ = try await client.unary(Retain_V1_Replication.acknowledge, .init(member: "b", epoch: 4, durableSequence: 0))
        leader.received.withLock { $0.removeAll() }
        log.set(last: 4, durable: 4)
        leader.refusing.store(true, ordering: .relaxed)
        acknowledger.acknowledgeNow()
        try await eventually { acknowledger.needsLoop }
        #expect(acknowledger.needsLoop, "the failed point is due again")
        leader.refusing.store(false, ordering: .relaxed)
        acknowledger.acknowledgeNow()
        try await eventually { leader.durablePoints == [4] }
        #expect(leader.durablePoints == [4])
        await client.close()
        server.drain()
    }
}
