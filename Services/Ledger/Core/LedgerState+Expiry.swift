import RetainProto

extension LedgerState {
    /// Moves the free part of every lot expired at `as_of_ms` to expiry:<asset>, assets in name
    /// order and lots by expiry time, at most `limit` lots (0: 10,000).
    mutating func applyExpireLots(_ request: Retain_V1_ExpireLotsRequest, at: Int64) {
        let limit = request.limit == 0 ? 10_000 : Int(request.limit)
        let assets = (request.assets.isEmpty ? assetNames : request.assets)
            .compactMap { assetIndex[$0] }
        let ordered = Array(Set(assets)).sorted { assetNames[Int($0)] < assetNames[Int($1)] }
        var expiredByAsset: [(String, Int64)] = []
        var expiredLots = 0
        outer: for asset in ordered {
            var total: Int64 = 0
            defer { if total > 0 { expiredByAsset.append((assetNames[Int(asset)], total)) } }
            while let due = expiryQueues[Int(asset)].top, due.time <= request.asOfMs {
                if expiredLots >= limit {
                    outcome.more = true
                    break outer
                }
                expiryQueues[Int(asset)].pop()
                lots[due.reference].queued = false
                guard lots[due.reference].remaining > 0 else { continue }
                total += expire(due.reference, at: at)
                expiredLots += 1
            }
        }
        outcome.expiredLots = UInt64(expiredLots)
        outcome.expired = expiredByAsset.map { Retain_V1_Amount(value: $0.1, asset: $0.0) }
    }

    /// Expires the free part of lot `lot`: a record "expiry:<lot id>" (then ":2", ":3"... if
    /// a hold kept part of it and it expires again after the hold is voided).
    private mutating func expire(_ lot: Int32, at: Int64) -> Int64 {
        let item = lots[lot]
        let account = accounts[item.account]
        let target = systemAccount(AccountAddress(kind: .expiry, asset: account.address.asset), at: at)
        let base = "expiry:\(records[item.record].transferId)"
        var id = base
        var attempt = 2
        while recordRef(id) != nil {
            id = "\(base):\(attempt)"
            attempt += 1
        }
        let index = appendRecord(
            JournalRecord(
                transferId: id, type: .expiry, debit: item.account, credit: target, amount: item.remaining, kind: .expiry,
                committedAt: at, reason: "expired", related: item.record))
        applyEffects(of: index)
        return item.remaining
    }

    /// Whether some lot with value left is due to expire at `now` (stale queue entries count:
    /// the run that finds them only drops them).
    public func lotsDue(at now: Int64) -> Bool {
        expiryQueues.contains { queue in queue.top.map { $0.time <= now } ?? false }
    }
}
