public import RetainProto

extension LedgerPayer {
    /// What paying a batch of rewards did.
    public struct BatchOutcome: Sendable, Equatable {
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

    /// Pays each of `wanted` that the ledger does not hold yet, in order. The ids are looked up
    /// first (one LookupTransfers per 1,000), so that catching up on a long list costs a read
    /// per batch rather than a write per transfer.
    ///
    /// - Parameter refused: The error to throw when the ledger refuses a transfer for want of
    ///   funds (the transfers before it stand; the caller tries again later).
    public func payMissing(
        _ wanted: [Retain_V1_Transfer], refused: (Retain_V1_Transfer, Retain_V1_TransferResult) -> any Error
    ) async throws -> BatchOutcome {
        var outcome = BatchOutcome()
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
        for transfer in wanted {
            if existing.contains(transfer.transferId) {
                outcome.alreadyPaid += 1
                continue
            }
            switch try await pay(transfer) {
            case .paid(let result, let replayed, _):
                if replayed { outcome.alreadyPaid += 1 } else { outcome.paid.append(result.transferId) }
                existing.insert(transfer.transferId)
            case .refused(let result):
                throw refused(transfer, result)
            }
        }
        return outcome
    }
}
