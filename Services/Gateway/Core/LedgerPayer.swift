public import RetainProto
public import RetainFlowRules

/// Pays rewards through the ledger, one transfer at a time, so that each pays at most once
/// whatever retries happen: the transfer id is fixed by the caller, a repeat with the same body
/// answers the first result, and a repeat whose body drifted (an expiry computed on another
/// day, a changed configuration) is looked up and counted as paid.
///
/// A budget account that was never opened is opened (uncapped, or with the configured cap)
/// and the transfer tried once more.
public struct LedgerPayer: Sendable {
    /// How one payment went.
    public enum Outcome: Sendable {
        /// Paid now, or earlier when `result.replayed` (or when the body drifted).
        case paid(Retain_V1_TransferResult, replayed: Bool, detail: String)
        /// The budget could not cover it (BUDGET_EXCEEDED or INSUFFICIENT_FUNDS); nothing moved.
        case refused(Retain_V1_TransferResult)
    }

    let backend: any FlowBackend
    let configuration: FlowConfiguration

    public init(backend: any FlowBackend, configuration: FlowConfiguration) {
        self.backend = backend
        self.configuration = configuration
    }

    /// The id of a campaign's budget account for `asset`.
    public static func budgetAccount(_ budget: String, asset: String) -> String { "budget:\(budget):\(asset)" }

    /// The id of a user's account for `asset`.
    public static func userAccount(_ user: String, asset: String) -> String { "user:\(user):\(asset)" }

    /// The transfer that pays `reward` to `user` from `budget`.
    public static func reward(
        id: String, user: String, reward: FlowConfiguration.Reward, budget: String, kind: Retain_V1_TransferKind,
        expiresAtMs: Int64, reason: String, metadata: [String: String]
    ) -> Retain_V1_Transfer {
        Retain_V1_Transfer(
            transferId: id, debitAccountId: budgetAccount(budget, asset: reward.asset),
            creditAccountId: userAccount(user, asset: reward.asset), amount: reward.value, asset: reward.asset,
            kind: kind, expiresAtMs: expiresAtMs, reason: reason, metadata: metadata)
    }

    /// When a lot credited at `base` expires after `days`; 0 (never) without days, and when
    /// that time is already past at `now` (the ledger refuses expiries in the past).
    public static func expiry(base: Int64, days: Int?, now: Int64) -> Int64 {
        guard let days, days > 0 else { return 0 }
        let expires = base + Int64(days) * 86_400_000
        return expires > now ? expires : 0
    }

    /// Applies `transfer` once.
    public func pay(_ transfer: Retain_V1_Transfer) async throws -> Outcome {
        var result = try await submit(transfer)
        if result.code == .accountNotFound {
            try await openBudget(transfer.debitAccountId)
            result = try await submit(transfer)
        }
        switch result.code {
        case .ok:
            return .paid(result, replayed: result.replayed, detail: "transfer \(transfer.transferId)")
        case .existsWithDifferentBody:
            let lookup = try await backend.call(
                Retain_V1_Ledger.lookupTransfers, Retain_V1_LookupTransfersRequest(transferIds: [transfer.transferId]), .read)
            guard let record = lookup.transfers.first(where: { $0.transfer?.transferId == transfer.transferId }) else {
                throw FlowError.backendInconsistent("ledger says transfer \(transfer.transferId) exists but cannot find it")
            }
            var paid = result
            paid.code = .ok
            paid.replayed = true
            paid.message = ""
            paid.sequence = record.sequence
            paid.committedAtMs = record.committedAtMs
            return .paid(
                paid, replayed: true,
                detail: "transfer \(transfer.transferId) paid earlier (with a different body)")
        case .budgetExceeded, .insufficientFunds:
            return .refused(result)
        default:
            throw FlowError.backendInconsistent(
                "ledger refused transfer \(transfer.transferId): \(result.code) \(result.message)",
                result: result.code)
        }
    }

    /// Opens a budget account the first time a reward is paid from it.
    public func openBudget(_ account: String) async throws {
        var request = Retain_V1_OpenAccountRequest(accountId: account, metadata: ["opened_by": configuration.actorName])
        if let cap = configuration.budgetCaps?[account] {
            request.capped = true
            request.cap = cap
        }
        do {
            _ = try await backend.call(Retain_V1_Ledger.openAccount, request, .admin(key: "open:\(account)"))
        } catch let error as BackendFailure where error.reason == .exists {
            // Opened meanwhile with another cap: it exists, which is all a payment needs.
        }
    }

    private func submit(_ transfer: Retain_V1_Transfer) async throws -> Retain_V1_TransferResult {
        let answer = try await backend.call(
            Retain_V1_Ledger.createTransfers, Retain_V1_CreateTransfersRequest(transfers: [transfer]),
            .write(key: transfer.transferId))
        guard let result = answer.results.first else {
            throw FlowError.backendInconsistent("ledger answered no result for transfer \(transfer.transferId)")
        }
        return result
    }
}
