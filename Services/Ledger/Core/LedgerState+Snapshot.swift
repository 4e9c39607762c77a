import RetainProto
import RetainRuleSets
public import RetainState

extension LedgerState {
    /// Writes the header, the accounts, the chain blocks, every journal record in order, then the
    /// coupon definitions and the issued coupons. Balances, lots, holds and totals are not
    /// written: restore rebuilds them from the records.
    public func writeSnapshot(to sink: inout SnapshotSink) throws {
        try sink.write(
            Retain_V1_LedgerSnapshotHeader(
                version: 1, lastAtMs: lastAtMs, accountCount: UInt64(accounts.count), recordCount: journalLength,
                chainHead: chain.head, blockCount: UInt64(chain.blockEnds.count),
                couponDefinitionCount: UInt64(couponDefinitions.count), couponCount: UInt64(coupons.count),
                ruleSetVersions: ruleSets.versions))
        for index in 0..<accounts.count {
            let account = accounts[index]
            try sink.write(
                Retain_V1_LedgerAccountRecord(
                    accountId: account.id, capped: account.capped, cap: account.cap, createdAtMs: account.createdAt,
                    metadata: account.metadata))
        }
        let perRecord = 4 * HashChain.checkpointInterval
        var start = 0
        while start < chain.blockEnds.count {
            let end = min(chain.blockEnds.count, start + perRecord)
            let checkpoints = chain.checkpoints[(start / HashChain.checkpointInterval)..<(end / HashChain.checkpointInterval)]
            try sink.write(
                Retain_V1_LedgerChainBlocks(
                    blockEnds: Array(chain.blockEnds[start..<end]),
                    checkpoints: checkpoints.map { $0 }))
            start = end
        }
        for index in 0..<records.count {
            let record = records[index]
            let related = record.related >= 0 ? records[record.related].transferId : ""
            let resolves = record.type == .post || record.type == .void || record.type == .timeout
            try sink.write(
                Retain_V1_LedgerJournalRecord(
                    type: record.type,
                    transfer: Retain_V1_Transfer(
                        transferId: record.transferId, debitAccountId: accounts[record.debit].id,
                        creditAccountId: accounts[record.credit].id, amount: record.amount,
                        asset: accounts[record.debit].address.asset, kind: record.kind, linked: record.linked,
                        pending: record.pending, timeoutMs: record.timeoutMs, expiresAtMs: record.expiresAtMs,
                        reason: record.reason, metadata: record.metadata),
                    committedAtMs: record.committedAt,
                    pendingTransferId: resolves ? related : "",
                    lotId: record.type == .expiry ? related : ""))
        }
        for id in couponDefinitions.keys.sorted() { try sink.write(couponDefinitions[id]!) }
        for coupon in coupons { try sink.write(coupon.record) }
    }

    /// Rebuilds the state from a snapshot, recomputing the hash chain over the records and
    /// refusing (throwing) when it does not match the chain the snapshot recorded.
    public mutating func restore(from source: inout SnapshotSource) throws {
        guard let header = try source.next(Retain_V1_LedgerSnapshotHeader.self), header.version == 1 else {
            throw StateRecoveryError("ledger snapshot: missing or unknown header")
        }
        do {
            try ruleSets.restore(header.ruleSetVersions)
        } catch {
            throw StateRecoveryError("ledger snapshot: \(error)")
        }
        for number in 0..<header.accountCount {
            guard let record = try source.next(Retain_V1_LedgerAccountRecord.self),
                let address = AccountAddress(parsing: record.accountId)
            else {
                throw StateRecoveryError("ledger snapshot: account record \(number) is missing or malformed")
            }
            openAccount(
                record.accountId, address, capped: record.capped, cap: record.cap, metadata: record.metadata,
                at: record.createdAtMs)
        }
        var blockEnds: [UInt64] = []
        var checkpoints: [[UInt8]] = []
        while UInt64(blockEnds.count) < header.blockCount {
            guard let blocks = try source.next(Retain_V1_LedgerChainBlocks.self), !blocks.blockEnds.isEmpty else {
                throw StateRecoveryError("ledger snapshot: chain blocks missing")
            }
            blockEnds += blocks.blockEnds
            checkpoints += blocks.checkpoints
        }
        var recomputed = HashChain()
        var nextBlock = 0
        for number in 0..<header.recordCount {
            guard let stored = try source.next(Retain_V1_LedgerJournalRecord.self), let transfer = stored.transfer,
                let debit = accountRef(transfer.debitAccountId), let credit = accountRef(transfer.creditAccountId)
            else {
                throw StateRecoveryError("ledger snapshot: journal record \(number + 1) is missing or names unknown accounts")
            }
            var related: Int32 = -1
            switch stored.type {
            case .transfer: break
            case .post, .void, .timeout:
                guard let hold = recordRef(stored.pendingTransferId) else {
                    throw StateRecoveryError("ledger snapshot: record \(number + 1) resolves unknown hold \(stored.pendingTransferId)")
                }
                related = hold
            case .expiry:
                guard let lot = recordRef(stored.lotId), records[lot].lot >= 0 else {
                    throw StateRecoveryError("ledger snapshot: record \(number + 1) expires unknown lot \(stored.lotId)")
                }
                related = lot
            default:
                throw StateRecoveryError("ledger snapshot: record \(number + 1) has unknown type \(stored.type)")
            }
            let index = appendRecord(
                JournalRecord(
                    transferId: transfer.transferId, type: stored.type, debit: debit, credit: credit, amount: transfer.amount,
                    kind: transfer.kind, linked: transfer.linked, pending: transfer.pending, timeoutMs: transfer.timeoutMs,
                    expiresAtMs: transfer.expiresAtMs, committedAt: stored.committedAtMs, reason: transfer.reason,
                    metadata: transfer.metadata, related: related))
            applyEffects(of: index)
            while nextBlock < blockEnds.count, blockEnds[nextBlock] == UInt64(index) + 1 {
                recomputed.seal(block, journalLength: blockEnds[nextBlock])
                block.reset()
                nextBlock += 1
                if nextBlock % HashChain.checkpointInterval == 0 {
                    let position = nextBlock / HashChain.checkpointInterval - 1
                    guard position < checkpoints.count, recomputed.head == checkpoints[position] else {
                        throw StateRecoveryError(
                            "ledger snapshot: hash chain mismatch at block \(nextBlock) (journal "
                                + "sequence \(index + 1)): the journal was altered or is corrupt; refusing to start")
                    }
                }
            }
        }
        guard nextBlock == blockEnds.count, block.isEmpty, recomputed.head == header.chainHead else {
            throw StateRecoveryError(
                "ledger snapshot: hash chain mismatch at the head (journal length "
                    + "\(records.count)): the journal was altered or is corrupt; refusing to start")
        }
        for number in 0..<header.couponDefinitionCount {
            guard let definition = try source.next(Retain_V1_CouponDefinition.self) else {
                throw StateRecoveryError("ledger snapshot: coupon definition \(number + 1) is missing")
            }
            couponDefinitions[definition.couponId] = definition
        }
        for number in 0..<header.couponCount {
            guard let record = try source.next(Retain_V1_LedgerCouponRecord.self), couponDefinitions[record.couponId] != nil
            else {
                throw StateRecoveryError("ledger snapshot: coupon \(number + 1) is missing or names an unknown definition")
            }
            let index = Int32(coupons.count)
            coupons.append(IssuedCoupon(record: record))
            couponIndex[record.code] = index
            userCoupons[record.userId, default: []].append(index)
        }
        chain = HashChain(head: header.chainHead, blockEnds: blockEnds, checkpoints: checkpoints)
        lastAtMs = header.lastAtMs
        rebuildQueues()
    }

    /// Rebuilds the timeout and expiry queues with only what can still be due.
    private mutating func rebuildQueues() {
        timeouts = MinHeap()
        for index in 0..<records.count where records[index].state == .pending && records[index].timeoutMs > 0 {
            timeouts.push(DueItem(time: records[index].timesOutAt, reference: Int32(index)))
        }
        for asset in expiryQueues.indices { expiryQueues[asset] = MinHeap() }
        for index in 0..<lots.count {
            lots[index].queued = false
            if lots[index].expiresAt > 0, lots[index].remaining + lots[index].held > 0 { requeue(Int32(index)) }
        }
    }
}
