import RetainProto

extension LedgerState {
    /// Posts (`post`) or voids a hold through a new record with the client's transfer id.
    mutating func applyResolve(pendingID: String, transferID: String, post: Bool, amount: Int64, reason: String, at: Int64) {
        let type: Retain_V1_LedgerRecordType = post ? .post : .void
        guard FieldFormat.isClientKey(transferID), !LedgerNames.isReserved(transferID) else {
            return refuse(.invalidTransferId, "transfer_id must be a key not starting with expiry:, timeout:, referral: or coupon:")
        }
        if let existing = recordRef(transferID) {
            let record = records[existing]
            let same =
                record.type == type && records[record.related].transferId == pendingID && record.reason == reason
                && (!post || amount == 0 || amount == record.amount)
            guard same else {
                return refuse(.existsWithDifferentBody, "transfer \(transferID) exists with a different body")
            }
            outcome.results = [success(0, existing, replayed: true)]
            outcome.hold = transferRecord(record.related)
            outcome.replayed = true
            return
        }
        guard let holdIndex = recordRef(pendingID), records[holdIndex].type == .transfer, records[holdIndex].pending else {
            return refuse(.pendingNotFound, "no pending transfer \(pendingID)")
        }
        let hold = records[holdIndex]
        switch hold.state {
        case .posted: return refuse(.pendingAlreadyPosted, "pending transfer \(pendingID) was already posted")
        case .voided: return refuse(.pendingAlreadyVoided, "pending transfer \(pendingID) was already voided")
        case .expired: return refuse(.pendingExpired, "pending transfer \(pendingID) timed out")
        default: break
        }
        if hold.timesOutAt > 0, at >= hold.timesOutAt {
            timeOut(holdIndex, at: at)
            return refuse(.pendingExpired, "pending transfer \(pendingID) timed out")
        }
        let posted = post ? (amount == 0 ? hold.amount : amount) : 0
        guard posted >= 0 else { return refuse(.invalidAmount, "amount must be >= 0") }
        guard posted <= hold.amount else {
            return refuse(.amountExceedsPending, "amount \(posted) exceeds the pending amount \(hold.amount)")
        }
        let index = appendRecord(
            JournalRecord(
                transferId: transferID, type: type, debit: hold.debit, credit: hold.credit, amount: post ? posted : hold.amount,
                kind: hold.kind, expiresAtMs: post ? hold.expiresAtMs : 0, committedAt: at, reason: reason, related: holdIndex))
        applyEffects(of: index)
        outcome.results = [success(0, index, replayed: false)]
        outcome.hold = transferRecord(holdIndex)
    }

    /// Voids every hold whose timeout is at or before `asOf`.
    mutating func applyTimeouts(asOf: Int64, at: Int64) {
        while let due = timeouts.top, due.time <= asOf {
            timeouts.pop()
            guard records[due.reference].state == .pending else { continue }
            timeOut(due.reference, at: at)
            outcome.timedOutHolds += 1
        }
    }

    /// Voids hold `index` because its timeout passed, with a record "timeout:<hold id>".
    mutating func timeOut(_ index: Int32, at: Int64) {
        let hold = records[index]
        let record = appendRecord(
            JournalRecord(
                transferId: "timeout:\(hold.transferId)", type: .timeout, debit: hold.debit, credit: hold.credit,
                amount: hold.amount, kind: hold.kind, committedAt: at, reason: "timed out", related: index))
        applyEffects(of: record)
    }

    /// Whether a hold is due to time out at `now`.
    public func holdsDue(at now: Int64) -> Bool {
        guard let due = timeouts.top else { return false }
        return due.time <= now
    }

    /// Records a refusal of the single-transfer call being applied.
    mutating func refuse(_ code: Retain_V1_TransferResultCode, _ message: String) {
        outcome.error = .transfer(code, message)
    }
}
