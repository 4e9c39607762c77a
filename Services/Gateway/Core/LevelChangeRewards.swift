public import RetainProto

/// Pays the level rewards of Growth's level-change events, whatever caused them (a flow, a
/// check-in, an award a client sent Growth directly): each level an event reached that has a
/// configured reward is paid as transfer `level:<user>:<level>`, the id the flows pay too, so
/// each level pays exactly once whichever path gets there first.
///
/// A batch first looks its transfer ids up (one LookupTransfers per 1,000 ids) and pays only
/// the missing ones, so that catching up on a long stream costs a read per batch rather than a
/// write per event. Lots expire counted from the event's time.
public struct LevelChangeRewards: Sendable {
    /// What paying one batch did.
    public struct Outcome: Sendable, Equatable {
        /// Transfers paid now.
        public var paid: [String] = []
        /// Transfers found paid already (by a flow, an earlier batch or another gateway).
        public var alreadyPaid = 0

        public init(paid: [String] = [], alreadyPaid: Int = 0) {
            self.paid = paid
            self.alreadyPaid = alreadyPaid
        }
    }

    /// Most ids in one LookupTransfers call.
    static let lookupLimit = 1000

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
        var outcome = Outcome()
        let wanted = transfers(for: events, now: now)
        guard !wanted.isEmpty else { return outcome }
        var existing = Set<String>()
        var start = 0
        while start < wanted.count {
            let ids = wanted[start..<min(start + Self.lookupLimit, wanted.count)].map(\.transferId)
            let found = try await backend.call(
                Retain_V1_Ledger.lookupTransfers, Retain_V1_LookupTransfersRequest(transferIds: Array(Set(ids)).sorted()), .read)
            for record in found.transfers {
                if let id = record.transfer?.transferId { existing.insert(id) }
            }
            start += Self.lookupLimit
        }
        let payer = LedgerPayer(backend: backend, configuration: configuration)
        for transfer in wanted {
            if existing.contains(transfer.transferId) {
                outcome.alreadyPaid += 1
                continue
            }
            switch try await payer.pay(transfer) {
            case .paid(let result, let replayed, _):
                if replayed { outcome.alreadyPaid += 1 } else { outcome.paid.append(result.transferId) }
                existing.insert(transfer.transferId)
            case .refused(let result):
                throw FlowError.paymentRefused(
                    "level reward \(transfer.transferId) refused by the ledger: \(result.code) \(result.message); paid once the budget '\(configuration.levelRewards?.budget ?? "")' is raised",
                    result: result.code)
            }
        }
        return outcome
    }
}
