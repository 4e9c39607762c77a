@testable import LedgerCore
import RetainProto
import Testing

/// CreateTransfers's compact answer (`omit_applied`): results only for what the call did not
/// newly apply, and enough (count, first sequence, time) to rebuild every other result.
@Suite("compact CreateTransfers answers")
struct CompactAnswerTests {
    /// The full results a client rebuilds from a compact answer to `transfers`.
    static func rebuild(_ compact: Retain_V1_CreateTransfersResponse, _ transfers: [Retain_V1_Transfer]) -> [Retain_V1_TransferResult] {
        var listed = compact.results.makeIterator()
        var next = listed.next()
        var sequence = compact.firstSequence
        return transfers.indices.map { index in
            if let result = next, result.index == UInt32(index) {
                next = listed.next()
                return result
            }
            defer { sequence += 1 }
            return Retain_V1_TransferResult(
                index: UInt32(index), transferId: transfers[index].transferId, code: .ok,
                sequence: sequence, committedAtMs: compact.committedAtMs)
        }
    }

    @Test("a compact answer lists failures and replays only, and rebuilds to the full answer")
    func compactRebuildsFull() {
        var ledger = fundedLedger(users: ["alice", "bob"], amount: 10)
        #expect(ledger.transfer(transfer("earlier", "user:alice:points", "user:bob:points", 1)).code == .ok)
        let batch = [
            transfer("n1", "user:alice:points", "user:bob:points", 2),
            transfer("too-much", "user:alice:points", "user:bob:points", 1_000),
            transfer("earlier", "user:alice:points", "user:bob:points", 1),
            transfer("n2", "user:bob:points", "user:alice:points", 3),
            transfer("l1", "user:bob:points", "user:alice:points", 1, linked: true),
            transfer("l2", "user:bob:points", "user:alice:points", 1_000),
            transfer("n3", "user:bob:points", "redemption:points", 1, kind: .redemption),
        ]
        let outcome = ledger.apply(.init(kind: .createTransfers, transfers: batch))
        let full = outcome.createTransfersResponse(omitApplied: false, transfers: batch)
        let compact = outcome.createTransfersResponse(omitApplied: true, transfers: batch)
        #expect(full.results.map(\.code) == [.ok, .insufficientFunds, .ok, .ok, .linkedEventFailed, .insufficientFunds, .ok])
        #expect(compact.results.map(\.transferId) == ["too-much", "earlier", "l1", "l2"])
        #expect(compact.results.map(\.index) == [1, 2, 4, 5])
        #expect(compact.results[1].replayed && compact.results[1].code == .ok)
        #expect(compact.applied == 3 && full.applied == 3)
        #expect(compact.firstSequence == full.results[0].sequence && compact.firstSequence > 0)
        #expect(compact.committedAtMs == ledger.state.lastAtMs)
        #expect(Self.rebuild(compact, batch) == full.results)
        #expect(ledger.state.journalLength == compact.firstSequence + 2)
    }

    @Test("a batch that applies nothing answers applied 0 and first sequence 0")
    func nothingApplied() {
        var ledger = fundedLedger(users: ["alice"], amount: 1)
        let batch = [transfer("x", "user:alice:points", "redemption:points", 5, kind: .redemption)]
        let outcome = ledger.apply(.init(kind: .createTransfers, transfers: batch))
        let compact = outcome.createTransfersResponse(omitApplied: true, transfers: batch)
        #expect(compact.applied == 0 && compact.firstSequence == 0 && compact.committedAtMs == 0)
        #expect(compact.results.map(\.code) == [.insufficientFunds])
    }
}
