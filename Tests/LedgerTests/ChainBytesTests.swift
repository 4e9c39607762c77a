@testable import LedgerCore
import RetainProto
import Foundation
import Testing

/// The hash chain's canonical posting bytes are a contract (HashChain.swift): logs and snapshots
/// written by earlier builds carry heads that replay and Audit recompute. Changing how the
/// encoder writes must not change a byte, for every record type.
@Suite("hash chain bytes")
struct ChainBytesTests {
    /// A journal with every record type: issues (one with an expiry), a transfer with a reason
    /// and metadata, pending transfers posted, voided and timed out, and an expiry.
    static func journal() throws -> LedgerState {
        var state = LedgerState()
        var entries: [Retain_V1_LedgerEntry] = [
            Retain_V1_LedgerEntry(kind: .openAccount, atMs: 1_000, openAccount: .init(accountId: "system:ops:points")),
            Retain_V1_LedgerEntry(
                kind: .createTransfers, atMs: 2_000,
                transfers: [
                    Retain_V1_Transfer(
                        transferId: "issue-1", debitAccountId: "system:ops:points", creditAccountId: "user:ana:points",
                        amount: 500, asset: "points", kind: .issue),
                    Retain_V1_Transfer(
                        transferId: "issue-2", debitAccountId: "system:ops:points", creditAccountId: "user:ana:points",
                        amount: 70, asset: "points", kind: .issue, expiresAtMs: 5_000),
                    Retain_V1_Transfer(
                        transferId: "issue-3", debitAccountId: "system:ops:points", creditAccountId: "user:cy:points",
                        amount: 9, asset: "points", kind: .taskReward, expiresAtMs: 5_500),
                    Retain_V1_Transfer(
                        transferId: "gift-é", debitAccountId: "user:ana:points", creditAccountId: "user:bo:points",
                        amount: 30, asset: "points", kind: .adjustment, reason: "birthday 生日",
                        metadata: ["order": "A-17", "channel": "app"]),
                    Retain_V1_Transfer(
                        transferId: "hold-1", debitAccountId: "user:ana:points", creditAccountId: "system:ops:points",
                        amount: 40, asset: "points", kind: .redemption, pending: true, timeoutMs: 60_000),
                    Retain_V1_Transfer(
                        transferId: "hold-2", debitAccountId: "user:ana:points", creditAccountId: "system:ops:points",
                        amount: 20, asset: "points", kind: .redemption, pending: true),
                    Retain_V1_Transfer(
                        transferId: "hold-3", debitAccountId: "user:ana:points", creditAccountId: "system:ops:points",
                        amount: 10, asset: "points", kind: .redemption, pending: true, timeoutMs: 1_000),
                ]),
            Retain_V1_LedgerEntry(
                kind: .postPending, atMs: 3_000,
                postPending: .init(pendingTransferId: "hold-1", transferId: "post-1", amount: 35, reason: "order")),
            Retain_V1_LedgerEntry(
                kind: .voidPending, atMs: 3_500,
                voidPending: .init(pendingTransferId: "hold-2", transferId: "void-1", reason: "cancelled")),
            Retain_V1_LedgerEntry(kind: .timeOutHolds, atMs: 4_000, asOfMs: 4_000),
            Retain_V1_LedgerEntry(kind: .expireLots, atMs: 6_000, expireLots: .init(asOfMs: 6_000)),
        ]
        for index in entries.indices {
            _ = try state.apply(completing: &entries[index])
        }
        return state
    }

    @Test("the chain head over every record type is what the canonical format gives")
    func headIsUnchanged() throws {
        let state = try Self.journal()
        #expect(Set((0..<state.records.count).map { state.records[$0].type }).count == 5)
        let hex = state.chainHead.map { String(format: "%02x", $0) }.joined()
        // Computed by the field-by-field encoder before it wrote whole postings at once.
        #expect(hex == "0ca23cfa2c5e416fbc7d91b592607404e7c4a4126aa8b432115a12ee4e841bb0")
    }
}
