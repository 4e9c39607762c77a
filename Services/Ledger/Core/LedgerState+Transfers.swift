import RetainProto

/// What checking one transfer decided.
enum TransferCheck {
    /// Refused with this code.
    case refused(Retain_V1_TransferResultCode, String)
    /// Applied earlier with the same body: record index.
    case replay(Int32)
    /// To apply: debit and credit account indexes (opened if they were missing), and the
    /// ``StringIndex/hash(_:)`` of the transfer id (computed once, for the lookup and the insert).
    case apply(Int32, Int32, UInt64)
}

/// What the earlier transfers of a linked chain will do to the accounts they touch.
struct ChainOverlay {
    struct Delta {
        var available: Int64 = 0
        var debits: Int64 = 0
        var credits: Int64 = 0
    }

    var deltas: [Int32: Delta] = [:]
    var ids: Set<String> = []

    subscript(account: Int32) -> Delta { deltas[account] ?? Delta() }

    mutating func add(_ transfer: Retain_V1_Transfer, debit: Int32, credit: Int32) {
        deltas[debit, default: Delta()].available -= transfer.amount
        deltas[debit, default: Delta()].debits += transfer.amount
        if !transfer.pending { deltas[credit, default: Delta()].available += transfer.amount }
        deltas[credit, default: Delta()].credits += transfer.amount
        ids.insert(transfer.transferId)
    }
}

extension LedgerState {
    /// Applies a batch in order: each linked chain as a whole, other transfers on their own.
    /// `ownIDs` allows the transfer-id prefixes the ledger keeps for itself.
    mutating func applyBatch(_ transfers: [Retain_V1_Transfer], at: Int64, ownIDs: Bool) -> [Retain_V1_TransferResult] {
        var results: [Retain_V1_TransferResult] = []
        results.reserveCapacity(transfers.count)
        var start = 0
        while start < transfers.count {
            var end = start
            while end < transfers.count - 1, transfers[end].linked { end += 1 }
            if transfers[end].linked {
                for index in start...end {
                    let open = index == end
                    results.append(
                        failure(
                            transfers[index], index, open ? .linkedChainOpen : .linkedEventFailed,
                            open ? "the batch ends inside a linked chain" : "another transfer of its linked chain failed"))
                }
            } else if start == end {
                let mark = accounts.count
                // One copy of the element (each `transfers[start]` argument would be another:
                // a retain and release of its five strings and its metadata).
                let transfer = transfers[start]
                switch check(transfer, at: at, ownIDs: ownIDs, overlay: nil) {
                case .refused(let code, let message):
                    closeAccounts(downTo: mark)
                    results.append(failure(transfer, start, code, message))
                case .replay(let record):
                    results.append(success(start, record, replayed: true))
                case .apply(let debit, let credit, let idHash):
                    let record = applyTransfer(transfer, debit, credit, idHash: idHash, at: at)
                    results.append(success(start, record, replayed: false))
                }
            } else {
                applyChain(transfers, start...end, at: at, ownIDs: ownIDs, into: &results)
            }
            start = end + 1
        }
        return results
    }

    private mutating func applyChain(
        _ transfers: [Retain_V1_Transfer], _ range: ClosedRange<Int>, at: Int64,
        ownIDs: Bool, into results: inout [Retain_V1_TransferResult]
    ) {
        let mark = accounts.count
        var overlay = ChainOverlay()
        var plans: [TransferCheck] = []
        plans.reserveCapacity(range.count)
        for index in range {
            var decision = check(transfers[index], at: at, ownIDs: ownIDs, overlay: overlay)
            if case .apply(let debit, let credit, _) = decision {
                if overlay.ids.contains(transfers[index].transferId) {
                    decision = .refused(.invalidTransferId, "transfer_id appears twice in one linked chain")
                } else {
                    overlay.add(transfers[index], debit: debit, credit: credit)
                }
            }
            if case .refused(let code, let message) = decision {
                closeAccounts(downTo: mark)
                for other in range {
                    results.append(
                        other == index
                            ? failure(transfers[other], other, code, message)
                            : failure(transfers[other], other, .linkedEventFailed, "transfer \(index) of its linked chain failed: \(code)"))
                }
                return
            }
            plans.append(decision)
        }
        for (offset, plan) in plans.enumerated() {
            let index = range.lowerBound + offset
            switch plan {
            case .replay(let record): results.append(success(index, record, replayed: true))
            case .apply(let debit, let credit, let idHash):
                let record = applyTransfer(transfers[index], debit, credit, idHash: idHash, at: at)
                results.append(success(index, record, replayed: false))
            case .refused: break
            }
        }
    }

    /// Checks one transfer against the state (plus what earlier transfers of its chain will do),
    /// opening self-opening accounts it needs. The caller closes them again when refused.
    func checkStatic(_ transfer: Retain_V1_Transfer, at: Int64, ownIDs: Bool) -> (Retain_V1_TransferResultCode, String)? {
        guard FieldFormat.isClientKey(transfer.transferId) else {
            return (.invalidTransferId, "transfer_id must be 1 to 256 printable ASCII bytes without spaces")
        }
        if !ownIDs, LedgerNames.isReserved(transfer.transferId) {
            return (.invalidTransferId, "transfer ids starting with expiry:, timeout:, referral: or coupon: are the ledger's own")
        }
        return nil
    }

    mutating func check(_ transfer: Retain_V1_Transfer, at: Int64, ownIDs: Bool, overlay: ChainOverlay?) -> TransferCheck {
        if let (code, message) = checkStatic(transfer, at: at, ownIDs: ownIDs) { return .refused(code, message) }
        let idHash = StringIndex.hash(transfer.transferId)
        if let existing = recordRef(transfer.transferId, hash: idHash) {
            return sameBody(existing, transfer)
                ? .replay(existing)
                : .refused(.existsWithDifferentBody, "transfer \(transfer.transferId) exists with a different body")
        }
        let debit = accountRef(transfer.debitAccountId)
        let credit = accountRef(transfer.creditAccountId)
        // Known accounts are valid by construction; only unknown ids are parsed.
        let debitAddress = debit == nil ? AccountAddress(parsing: transfer.debitAccountId) : nil
        let creditAddress = credit == nil ? AccountAddress(parsing: transfer.creditAccountId) : nil
        if debit == nil, debitAddress == nil { return .refused(.invalidAccountId, "debit_account_id is not a valid account id") }
        if credit == nil, creditAddress == nil { return .refused(.invalidAccountId, "credit_account_id is not a valid account id") }
        guard transfer.debitAccountId != transfer.creditAccountId else {
            return .refused(.sameAccount, "debit and credit account are the same")
        }
        guard transfer.amount > 0, transfer.amount <= FieldFormat.maximumAmount else {
            return .refused(.invalidAmount, "amount must be 1 to 2^53")
        }
        let debitAsset = debit.map { assetNames[Int(accounts[$0].asset)] } ?? debitAddress!.asset
        let creditAsset = credit.map { assetNames[Int(accounts[$0].asset)] } ?? creditAddress!.asset
        guard debitAsset == transfer.asset, creditAsset == transfer.asset else {
            return .refused(.invalidAsset, "asset \(transfer.asset) is not the asset of both accounts")
        }
        guard transfer.kind.rawValue >= 1, transfer.kind.rawValue <= 11, transfer.kind != .expiry else {
            return .refused(.invalidKind, "kind must be set, and EXPIRY is the ledger's own")
        }
        guard transfer.timeoutMs >= 0, transfer.pending || transfer.timeoutMs == 0 else {
            return .refused(.invalidTimeout, "timeout_ms must be >= 0, and only set on pending transfers")
        }
        if transfer.expiresAtMs != 0 {
            guard transfer.expiresAtMs > at else { return .refused(.invalidExpiry, "expires_at_ms is not in the future") }
            guard credit.map({ accounts[$0].isUser }) ?? (creditAddress!.kind == .user) else {
                return .refused(.invalidExpiry, "expires_at_ms is only for credits to user accounts")
            }
        }
        if let debitAddress, !debitAddress.opensItself {
            return .refused(.accountNotFound, "account \(transfer.debitAccountId) was never opened")
        }
        if let creditAddress, !creditAddress.opensItself {
            return .refused(.accountNotFound, "account \(transfer.creditAccountId) was never opened")
        }
        let debitIndex = debit ?? openAccount(transfer.debitAccountId, debitAddress!, at: at)
        let creditIndex = credit ?? openAccount(transfer.creditAccountId, creditAddress!, at: at)
        let debitDelta = overlay?[debitIndex] ?? ChainOverlay.Delta()
        let creditDelta = overlay?[creditIndex] ?? ChainOverlay.Delta()
        let available = accounts[debitIndex].creditsPosted - accounts[debitIndex].debitsPosted - accounts[debitIndex].debitsPending
        let after = available + debitDelta.available - transfer.amount
        if accounts[debitIndex].neverNegative, after < 0 {
            return .refused(
                .insufficientFunds,
                "\(transfer.debitAccountId) has \(available + debitDelta.available) available, "
                    + "the transfer needs \(transfer.amount)")
        }
        if accounts[debitIndex].capped, after < -accounts[debitIndex].cap {
            return .refused(.budgetExceeded, "\(transfer.debitAccountId) would go below its cap of -\(accounts[debitIndex].cap)")
        }
        let debitTotal = accounts[debitIndex].debitsPosted.addingReportingOverflow(accounts[debitIndex].debitsPending).partialValue
        let creditTotal = accounts[creditIndex].creditsPosted.addingReportingOverflow(accounts[creditIndex].creditsPending).partialValue
        if debitTotal.addingReportingOverflow(debitDelta.debits + transfer.amount).overflow
            || creditTotal.addingReportingOverflow(creditDelta.credits + transfer.amount).overflow
        {
            return .refused(.overflow, "an account total would overflow")
        }
        return .apply(debitIndex, creditIndex, idHash)
    }

    /// Whether record `index` is `transfer` (every field but the id).
    func sameBody(_ index: Int32, _ transfer: Retain_V1_Transfer) -> Bool {
        let record = records[index]
        return record.type == .transfer
            && record.amount == transfer.amount
            && record.kind == transfer.kind
            && record.linked == transfer.linked
            && record.pending == transfer.pending
            && record.timeoutMs == transfer.timeoutMs
            && record.expiresAtMs == transfer.expiresAtMs
            && accounts[record.debit].id == transfer.debitAccountId
            && accounts[record.credit].id == transfer.creditAccountId
            && assetNames[Int(accounts[record.debit].asset)] == transfer.asset
            && record.reason == transfer.reason
            && record.metadata == transfer.metadata
    }

    /// Appends a checked transfer to the journal and applies it.
    mutating func applyTransfer(
        _ transfer: Retain_V1_Transfer, _ debit: Int32, _ credit: Int32, idHash: UInt64,
        at: Int64
    ) -> Int32 {
        let index = appendRecord(
            idHash: idHash,
            JournalRecord(
                transferId: transfer.transferId, type: .transfer, debit: debit, credit: credit, amount: transfer.amount,
                kind: transfer.kind, linked: transfer.linked, pending: transfer.pending, timeoutMs: transfer.timeoutMs,
                expiresAtMs: transfer.expiresAtMs, committedAt: at, reason: transfer.reason, metadata: transfer.metadata))
        applyEffects(of: index)
        return index
    }

    func success(_ index: Int, _ record: Int32, replayed: Bool) -> Retain_V1_TransferResult {
        Retain_V1_TransferResult(
            index: UInt32(index), transferId: records[record].transferId, code: .ok, replayed: replayed,
            sequence: UInt64(record) + 1, committedAtMs: records[record].committedAt)
    }

    func failure(
        _ transfer: Retain_V1_Transfer, _ index: Int, _ code: Retain_V1_TransferResultCode,
        _ message: String
    ) -> Retain_V1_TransferResult {
        Retain_V1_TransferResult(index: UInt32(index), transferId: transfer.transferId, code: code, message: message)
    }
}
