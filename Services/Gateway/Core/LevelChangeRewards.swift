public import RetainProto
public import RetainFlowRules

/// Pays the level rewards of Growth's level-change events, whatever caused them (a flow, a
/// check-in, an award a client sent Growth directly): each level an event reached that has a
/// configured reward is paid as transfer `level:<user>:<level>`, the id the flows pay too, so
/// each level pays exactly once whichever path gets there first.
///
/// A batch pays only the transfers the ledger does not hold yet (``LedgerPayer/payMissing(_:refused:)``).
/// Lots expire counted from the event's time.
public struct LevelChangeRewards: Sendable {
    /// What paying one batch did.
    public typealias Outcome = LedgerPayer.BatchOutcome

    let backend: any FlowBackend
    let configuration: FlowConfiguration

    public init(backend: any FlowBackend, configuration: FlowConfiguration) {
        self.backend = backend
        self.configuration = configuration
    }

    /// The transfers `events` call for, in event order: one per level crossed that has a reward.
    public func transfers(for events: [Retain_V1_LevelChangeEvent], now: Int64) -> [Retain_V1_Transfer] {
        guard let rules = configuration.levelRewards else { return [] }
        var transfers: [Retain_V1_Transfer] = []
        for event in events where event.toLevel > event.fromLevel {
            for level in (event.fromLevel + 1)...event.toLevel {
                guard let reward = configuration.levelReward(level) else { continue }
                transfers.append(
                    LedgerPayer.reward(
                        id: FlowKeys.levelTransfer(user: event.userId, level: level), user: event.userId, reward: reward,
                        budget: rules.budget, kind: .levelReward,
                        expiresAtMs: LedgerPayer.expiry(base: event.atMs, days: rules.expiresAfterDays, now: now),
                        reason: "level \(level) reached",
                        metadata: ["flow": "level_change", "cause": event.causeAction, "cause_key": event.causeKey]))
            }
        }
        return transfers
    }

    /// Pays what `events` call for and is not paid yet.
    ///
    /// - Throws: ``FlowError/paymentRefused(_:result:)`` when the level budget cannot pay (the
    ///   transfers before it stand; the caller tries the batch again later), or a backend's
    ///   failure.
    public func pay(_ events: [Retain_V1_LevelChangeEvent], now: Int64) async throws -> Outcome {
        let budget = configuration.levelRewards?.budget ?? ""
        return try await LedgerPayer(backend: backend, configuration: configuration).payMissing(
            transfers(for: events, now: now)
        ) { transfer, result in
            FlowError.paymentRefused(
                "level reward \(transfer.transferId) refused by the ledger: \(result.code) \(result.message); paid once the budget '\(budget)' is raised",
                result: result.code)
        }
    }
}
