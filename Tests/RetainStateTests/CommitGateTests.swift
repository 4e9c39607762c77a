import RetainState
import Synchronization
import Testing

@Suite("Commit gate: answers released only when committed, never across a change of role")
struct CommitGateTests {
    @Test("waiters are released in order as the commit point moves")
    func release() {
        let gate = CommitGate()
        let released = Mutex<[UInt64]>([])
        for sequence: UInt64 in [3, 1, 2] {
            gate.whenCommitted(sequence, generation: gate.generation) { result in
                if case .success = result { released.withLock { $0.append(sequence) } }
            }
        }
        gate.advance(to: 2)
        #expect(released.withLock { $0.sorted() } == [1, 2])
        gate.advance(to: 1)
        #expect(gate.committedSequence == 2, "the commit point never goes back")
        gate.advance(to: 3)
        #expect(released.withLock { $0.sorted() } == [1, 2, 3])
    }

    @Test("a change of role fails what waits and refuses what was read or written before it")
    func generation() {
        let gate = CommitGate()
        gate.change(to: .leader(epoch: 1))
        let old = gate.generation
        let outcome = Mutex<Result<Void, StateStoreError>?>(nil)
        gate.whenCommitted(5, generation: old) { result in outcome.withLock { $0 = result } }
        gate.change(to: .candidate)
        guard case .failure(.unavailable(_, let notProcessed))? = outcome.withLock({ $0 }) else {
            Issue.record("the waiter was not failed")
            return
        }
        #expect(!notProcessed, "its outcome is unknown: it may be committed by the new leader")
        gate.advance(to: 10)
        let late = Mutex<Result<Void, StateStoreError>?>(nil)
        gate.whenCommitted(5, generation: old) { result in late.withLock { $0 = result } }
        if case .success? = late.withLock({ $0 }) { Issue.record("an answer of an ended generation was released") }
        #expect(gate.writeRefusal() == .notLeader(leader: nil))
    }
}
