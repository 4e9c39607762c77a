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
    /// Applies a CreateTransfers batch, deciding its outcome in the compact form: results only
    /// for the transfers it did not newly apply, and the count, first sequence and time of those
    /// it did (``LedgerOutcome/transferResults(_:)`` rebuilds the rest).
    mutating func applyCreateTransfers(_ transfers: [Retain_V1_Transfer], at: Int64) {
        var results: [Retain_V1_TransferResult] = []
        applyBatch(transfers, at: at, ownIDs: false, compact: true, into: &results)
        outcome.results = results
    }

    /// Applies a batch in order: each linked chain as a whole, other transfers on their own.
    /// `ownIDs` allows the transfer-id prefixes the ledger keeps for itself.
    mutating func applyBatch(_ transfers: [Retain_V1_Transfer], at: Int64, ownIDs: Bool) -> [Retain_V1_TransferResult] {
        var results: [Retain_V1_TransferResult] = []
        results.reserveCapacity(transfers.count)
        applyBatch(transfers, at: at, ownIDs: ownIDs, compact: false, into: &results)
        return results
    }

    /// Applies a batch, appending its results; `compact`: a newly applied transfer is counted
    /// in ``outcome`` (``LedgerOutcome/applied``, its first sequence and time) instead of listed.
    private mutating func applyBatch(
        _ transfers: [Retain_V1_Transfer], at: Int64, ownIDs: Bool, compact: Bool,
        into results: inout [Retain_V1_TransferResult]
    ) {
        var start = 0
        var prefetch = transfers.count >= TransferPrefetch.minimumBatch ? TransferPrefetch(count: transfers.count) : nil
        while start < transfers.count {
            prefetch?.advance(to: start, of: transfers, in: self)
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
                // The transfer is read field by field where it lies (`transfers` and its index):
                // a copy of the element, even one, retains and releases its five strings and
                // its metadata.
                switch check(transfers, start, at: at, ownIDs: ownIDs, overlay: nil, hashes: prefetch?.hashes(start)) {
                case .refused(let code, let message):
                    closeAccounts(downTo: mark)
                    results.append(failure(transfers[start], start, code, message))
                case .replay(let record):
                    results.append(success(start, record, replayed: true))
                case .apply(let debit, let credit, let idHash):
                    let record = applyTransfer(transfers, start, debit, credit, idHash: idHash, at: at)
                    applied(start, record, compact: compact, into: &results)
                }
            } else {
                applyChain(transfers, start...end, at: at, ownIDs: ownIDs, compact: compact, prefetch: prefetch, into: &results)
            }
            start = end + 1
        }
    }

    /// Reports transfer `index` of a batch newly applied as `record`: listed, or counted when
    /// `compact`.
    @inline(__always)
    private mutating func applied(_ index: Int, _ record: Int32, compact: Bool, into results: inout [Retain_V1_TransferResult]) {
        guard compact else { return results.append(success(index, record, replayed: false)) }
        if outcome.applied == 0 {
            outcome.firstSequence = UInt64(record) + 1
            outcome.committedAtMs = records[record].committedAt
        }
        outcome.applied += 1
    }

    /// Applies the linked chain `range` of a batch as a whole; `prefetch` holds the hashes the
    /// batch already computed for its transfers, if it did.
    private mutating func applyChain(
        _ transfers: [Retain_V1_Transfer], _ range: ClosedRange<Int>, at: Int64,
        ownIDs: Bool, compact: Bool, prefetch: TransferPrefetch?, into results: inout [Retain_V1_TransferResult]
    ) {
        let mark = accounts.count
        var overlay = ChainOverlay()
        var plans: [TransferCheck] = []
        plans.reserveCapacity(range.count)
        for index in range {
            var decision = check(transfers, index, at: at, ownIDs: ownIDs, overlay: overlay, hashes: prefetch?.hashes(index))
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
                let record = applyTransfer(transfers, index, debit, credit, idHash: idHash, at: at)
                applied(index, record, compact: compact, into: &results)
            case .refused: break
            }
        }
    }

    /// Checks what a transfer id alone decides: its format and, unless `ownIDs`, the ledger's
    /// reserved prefixes.
    func checkStatic(_ transferID: String, ownIDs: Bool) -> (Retain_V1_TransferResultCode, String)? {
        guard FieldFormat.isClientKey(transferID) else {
            return (.invalidTransferId, "transfer_id must be 1 to 256 printable ASCII bytes without spaces")
        }
        if !ownIDs, LedgerNames.isReserved(transferID) {
            return (.invalidTransferId, "transfer ids starting with expiry:, timeout:, referral: or coupon: are the ledger's own")
        }
        return nil
    }

    /// Checks transfer `i` of `transfers` against the state (plus what earlier transfers of its
    /// chain will do), opening self-opening accounts it needs. The caller closes them again when
    /// refused.
    mutating func check(
        _ transfers: [Retain_V1_Transfer], _ i: Int, at: Int64, ownIDs: Bool, overlay: ChainOverlay?,
        hashes: TransferHashes? = nil
    ) -> TransferCheck {
        if let (code, message) = checkStatic(transfers[i].transferId, ownIDs: ownIDs) { return .refused(code, message) }
        let idHash = hashes?.id ?? StringIndex.hash(transfers[i].transferId)
        if let existing = recordRef(transfers[i].transferId, hash: idHash) {
            return sameBody(existing, transfers[i])
                ? .replay(existing)
                : .refused(.existsWithDifferentBody, "transfer \(transfers[i].transferId) exists with a different body")
        }
        let debit = accountRef(transfers[i].debitAccountId, hash: hashes?.debit)
        let credit = accountRef(transfers[i].creditAccountId, hash: hashes?.credit)
        // Known accounts are valid by construction; only unknown ids are parsed.
        let debitAddress = debit == nil ? AccountAddress(parsing: transfers[i].debitAccountId) : nil
        let creditAddress = credit == nil ? AccountAddress(parsing: transfers[i].creditAccountId) : nil
        if debit == nil, debitAddress == nil { return .refused(.invalidAccountId, "debit_account_id is not a valid account id") }
        if credit == nil, creditAddress == nil { return .refused(.invalidAccountId, "credit_account_id is not a valid account id") }
        // Two open accounts are the same account when their indexes are; an open one and an
        // unknown one never are; only two unknown ids are compared as strings.
        let same =
            debit != nil || credit != nil
            ? debit == credit : transfers[i].debitAccountId == transfers[i].creditAccountId
        guard !same else {
            return .refused(.sameAccount, "debit and credit account are the same")
        }
        guard transfers[i].amount > 0, transfers[i].amount <= FieldFormat.maximumAmount else {
            return .refused(.invalidAmount, "amount must be 1 to 2^53")
        }
        let debitAsset = debit.map { assetNames[Int(accounts[$0].asset)] } ?? debitAddress!.asset
        let creditAsset = credit.map { assetNames[Int(accounts[$0].asset)] } ?? creditAddress!.asset
        guard debitAsset == transfers[i].asset, creditAsset == transfers[i].asset else {
            return .refused(.invalidAsset, "asset \(transfers[i].asset) is not the asset of both accounts")
        }
        guard transfers[i].kind.rawValue >= 1, transfers[i].kind.rawValue <= 11, transfers[i].kind != .expiry else {
            return .refused(.invalidKind, "kind must be set, and EXPIRY is the ledger's own")
        }
        guard transfers[i].timeoutMs >= 0, transfers[i].pending || transfers[i].timeoutMs == 0 else {
            return .refused(.invalidTimeout, "timeout_ms must be >= 0, and only set on pending transfers")
        }
        if transfers[i].expiresAtMs != 0 {
            guard transfers[i].expiresAtMs > at else { return .refused(.invalidExpiry, "expires_at_ms is not in the future") }
            guard credit.map({ accounts[$0].isUser }) ?? (creditAddress!.kind == .user) else {
                return .refused(.invalidExpiry, "expires_at_ms is only for credits to user accounts")
            }
        }
        if let debitAddress, !debitAddress.opensItself {
            return .refused(.accountNotFound, "account \(transfers[i].debitAccountId) was never opened")
        }
        if let creditAddress, !creditAddress.opensItself {
            return .refused(.accountNotFound, "account \(transfers[i].creditAccountId) was never opened")
        }
        let debitIndex = debit ?? openAccount(transfers[i].debitAccountId, debitAddress!, at: at)
        let creditIndex = credit ?? openAccount(transfers[i].creditAccountId, creditAddress!, at: at)
        let debitDelta = overlay?[debitIndex] ?? ChainOverlay.Delta()
        let creditDelta = overlay?[creditIndex] ?? ChainOverlay.Delta()
        let available = accounts[debitIndex].creditsPosted - accounts[debitIndex].debitsPosted - accounts[debitIndex].debitsPending
        let after = available + debitDelta.available - transfers[i].amount
        if accounts[debitIndex].neverNegative, after < 0 {
            return .refused(
                .insufficientFunds,
                "\(transfers[i].debitAccountId) has \(available + debitDelta.available) available, "
                    + "the transfer needs \(transfers[i].amount)")
        }
        if accounts[debitIndex].capped, after < -accounts[debitIndex].cap {
            return .refused(.budgetExceeded, "\(transfers[i].debitAccountId) would go below its cap of -\(accounts[debitIndex].cap)")
        }
        let debitTotal = accounts[debitIndex].debitsPosted.addingReportingOverflow(accounts[debitIndex].debitsPending).partialValue
        let creditTotal = accounts[creditIndex].creditsPosted.addingReportingOverflow(accounts[creditIndex].creditsPending).partialValue
        if debitTotal.addingReportingOverflow(debitDelta.debits + transfers[i].amount).overflow
            || creditTotal.addingReportingOverflow(creditDelta.credits + transfers[i].amount).overflow
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

    /// Appends checked transfer `i` of `transfers` to the journal and applies it.
    mutating func applyTransfer(
        _ transfers: [Retain_V1_Transfer], _ i: Int, _ debit: Int32, _ credit: Int32, idHash: UInt64,
        at: Int64
    ) -> Int32 {
        let index = appendRecord(
            idHash: idHash,
            JournalRecord(
                transferId: transfers[i].transferId, type: .transfer, debit: debit, credit: credit, amount: transfers[i].amount,
                kind: transfers[i].kind, linked: transfers[i].linked, pending: transfers[i].pending,
                timeoutMs: transfers[i].timeoutMs, expiresAtMs: transfers[i].expiresAtMs, committedAt: at,
                reason: transfers[i].reason, metadata: transfers[i].metadata))
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
