import Foundation
@testable import RetainReplication
import RetainState
import Synchronization
import Testing

@Suite("Leader term: commits on a quorum of the synchronous set, and only under a valid lease")
struct LeaderTermTests {
    final class Lease: Sendable {
        let valid = Atomic<Bool>(true)
    }

    private func term(required: Int, startSequence: UInt64 = 0, lease: Lease = Lease()) -> (LeaderTerm, CommitGate) {
        let gate = CommitGate()
        gate.change(to: .leader(epoch: 1))
        let term = LeaderTerm(
            epoch: 1, history: EpochHistory(), startSequence: startSequence, localDurable: 0,
            required: required, window: RecordWindow(capacity: 1 << 20), gate: gate,
            leaseValid: { lease.valid.load(ordering: .relaxed) })
        return (term, gate)
    }

    @Test("nothing commits until a replica of the synchronous set holds it, then the lowest of leader and quorum")
    func quorum() {
        let (term, gate) = term(required: 1)
        term.localDurable(10)
        #expect(gate.committedSequence == 0, "durable on the leader alone is not committed")
        term.connect("b")
        term.acknowledge("b", durable: 8, leaderLast: 10)
        #expect(gate.committedSequence == 0, "a replica outside the synchronous set does not count")
        term.adoptSync(["b"])
        #expect(gate.committedSequence == 8)
        term.acknowledge("b", durable: 12, leaderLast: 12)
        #expect(gate.committedSequence == 10, "never beyond what the leader itself holds durably")
    }

    @Test("with two required, the second-highest acknowledgement decides")
    func twoRequired() {
        let (term, gate) = term(required: 2)
        term.localDurable(100)
        term.adoptSync(["b", "c"])
        term.acknowledge("b", durable: 90, leaderLast: 100)
        #expect(gate.committedSequence == 0)
        term.acknowledge("c", durable: 70, leaderLast: 100)
        #expect(gate.committedSequence == 70)
    }

    @Test("a leader whose lease may have lapsed confirms nothing more")
    func fencing() {
        let lease = Lease()
        let (term, gate) = term(required: 1, lease: lease)
        term.adoptSync(["b"])
        term.localDurable(5)
        term.acknowledge("b", durable: 5, leaderLast: 5)
        #expect(gate.committedSequence == 5)
        lease.valid.store(false, ordering: .relaxed)
        term.localDurable(9)
        term.acknowledge("b", durable: 9, leaderLast: 9)
        #expect(gate.committedSequence == 5)
    }

    @Test("the synchronous set takes caught-up replicas and drops a gone one only when the rest hold every commit")
    func syncChanges() async throws {
        let (term, gate) = term(required: 1, startSequence: 4)
        term.localDurable(4)
        term.connect("b")
        term.acknowledge("b", durable: 3, leaderLast: 4)
        #expect(term.proposedSync(grace: Duration.zero) == nil, "b lacks records the leader had at election")
        term.acknowledge("b", durable: 4, leaderLast: 4)
        #expect(term.proposedSync(grace: Duration.zero) == ["b"])
        term.adoptSync(["b"])
        #expect(gate.committedSequence == 4)
        term.connect("c")
        term.acknowledge("c", durable: 4, leaderLast: 4)
        term.adoptSync(["b", "c"])
        term.localDurable(9)
        term.acknowledge("b", durable: 9, leaderLast: 9)
        #expect(gate.committedSequence == 9)
        // b goes away: only c remains, which lacks 5...9: dropping b would let c be promoted
        // without committed records.
        term.disconnect("b")
        try await Task.sleep(for: .milliseconds(5))
        #expect(term.proposedSync(grace: Duration.milliseconds(1)) == nil)
        term.acknowledge("c", durable: 9, leaderLast: 9)
        #expect(term.proposedSync(grace: Duration.milliseconds(1)) == ["c"])
    }
}
