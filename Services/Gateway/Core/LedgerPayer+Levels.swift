import RetainFlowRules
public import RetainProto

extension LedgerPayer {
    /// Pays the configured reward of every level from `fromLevel + 1` through `toLevel`, each as
    /// transfer `level:<user>:<level>` (the id a follower of Growth.WatchLevelChanges pays too,
    /// so either path pays once), recording one `ledger.level_reward` step per level.
    public func payLevelRewards(
        user: String, fromLevel: UInt32, toLevel: UInt32, base: Int64, now: Int64, eventID: String, flow: String,
        steps: inout FlowSteps
    ) async throws -> [Retain_V1_TransferResult] {
        guard toLevel > fromLevel else { return [] }
        var results: [Retain_V1_TransferResult] = []
        for level in (fromLevel + 1)...toLevel {
            guard let reward = configuration.levelReward(level), let rules = configuration.levelRewards else {
                steps.add("ledger.level_reward", .skipped, "no reward configured for level \(level)")
                continue
            }
            let transfer = LedgerPayer.reward(
                id: FlowKeys.levelTransfer(user: user, level: level), user: user, reward: reward, budget: rules.budget,
                kind: .levelReward, expiresAtMs: LedgerPayer.expiry(base: base, days: rules.expiresAfterDays, now: now),
                reason: "level \(level) reached", metadata: ["flow": flow, "event_id": eventID])
            switch try await pay(transfer) {
            case .paid(let result, let replayed, let detail):
                results.append(result)
                steps.ran("ledger.level_reward", replayed: replayed, "level \(level): \(detail)")
            case .refused(let result):
                throw FlowError.paymentRefused(
                    "level \(level) reward for \(user) refused by the ledger: \(result.code) \(result.message); retry once the budget '\(rules.budget)' is raised",
                    result: result.code)
            }
        }
        return results
    }
}
