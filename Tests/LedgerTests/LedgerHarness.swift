@testable import LedgerCore
import RetainProto
import Testing

/// A ledger in memory for unit tests: applies entries as the live service does (completing
/// them), keeps the log for replay checks, and lets a test move the clock.
struct LedgerHarness {
    static let day: Int64 = 86_400_000
    var state = LedgerState()
    var log: [Retain_V1_LedgerEntry] = []
    var now: Int64 = 1_767_225_600_000  // 2026-01-01T00:00:00Z

    @discardableResult
    mutating func apply(_ entry: Retain_V1_LedgerEntry) -> LedgerOutcome {
        var entry = entry
        entry.atMs = max(now, state.lastAtMs)
        var outcome = LedgerOutcome()
        do {
            outcome = try state.apply(completing: &entry)
        } catch {
            Issue.record("apply failed: \(error)")
        }
        log.append(entry)
        return outcome
    }

    mutating func open(_ id: String, cap: Int64? = nil) {
        let outcome = apply(.init(kind: .openAccount, openAccount: .init(accountId: id, capped: cap != nil, cap: cap ?? 0)))
        #expect(outcome.error == nil)
    }

    @discardableResult
    mutating func transfers(_ transfers: [Retain_V1_Transfer]) -> [Retain_V1_TransferResult] {
        apply(.init(kind: .createTransfers, transfers: transfers)).transferResults(transfers)
    }

    @discardableResult
    mutating func transfer(_ transfer: Retain_V1_Transfer) -> Retain_V1_TransferResult {
        transfers([transfer])[0]
    }

    mutating func post(_ pending: String, id: String, amount: Int64 = 0) -> LedgerOutcome {
        apply(.init(kind: .postPending, postPending: .init(pendingTransferId: pending, transferId: id, amount: amount)))
    }

    mutating func void(_ pending: String, id: String) -> LedgerOutcome {
        apply(.init(kind: .voidPending, voidPending: .init(pendingTransferId: pending, transferId: id)))
    }

    mutating func expire(asOf: Int64? = nil, limit: UInt32 = 0) -> LedgerOutcome {
        apply(.init(kind: .expireLots, expireLots: .init(asOfMs: asOf ?? max(now, state.lastAtMs), limit: limit)))
    }

    mutating func sweepHolds() -> LedgerOutcome {
        apply(.init(kind: .timeOutHolds, asOfMs: max(now, state.lastAtMs)))
    }

    /// A user's balance in one asset.
    func balance(_ user: String, _ asset: String = "points") -> Retain_V1_AssetBalance {
        state.balance(user: user, asset: asset, now: max(now, state.lastAtMs))
    }

    func account(_ id: String) -> Retain_V1_Account? { try? state.account(id) }

    /// A fresh state rebuilt by replaying the log; fails the test when replay refuses.
    func replayed() throws -> LedgerState {
        var fresh = LedgerState()
        for entry in log { try fresh.apply(entry) }
        return fresh
    }

    /// The invariants every state must keep.
    func expectInvariants(sourceLocation: SourceLocation = #_sourceLocation) {
        let problems = state.invariantViolations()
        #expect(problems.isEmpty, "\(problems)", sourceLocation: sourceLocation)
    }
}

/// A transfer with test defaults.
func transfer(
    _ id: String, _ debit: String, _ credit: String, _ amount: Int64, kind: Retain_V1_TransferKind = .issue,
    asset: String = "points", linked: Bool = false, pending: Bool = false, timeoutMs: Int64 = 0,
    expiresAtMs: Int64 = 0, reason: String = ""
) -> Retain_V1_Transfer {
    Retain_V1_Transfer(
        transferId: id, debitAccountId: debit, creditAccountId: credit, amount: amount, asset: asset,
        kind: kind, linked: linked, pending: pending, timeoutMs: timeoutMs, expiresAtMs: expiresAtMs,
        reason: reason)
}

/// A harness with budget:camp:points opened (uncapped) and `users` funded with `amount` each.
func fundedLedger(users: [String] = ["alice", "bob"], amount: Int64 = 100) -> LedgerHarness {
    var ledger = LedgerHarness()
    ledger.open("budget:camp:points")
    for user in users {
        let result = ledger.transfer(transfer("fund-\(user)", "budget:camp:points", "user:\(user):points", amount))
        #expect(result.code == .ok)
    }
    return ledger
}
