import RetainProto

extension LedgerState {
    /// Debits a user for abuse, crediting penalty:<asset>.
    mutating func applyPenalize(_ request: Retain_V1_PenalizeRequest, at: Int64) {
        let amount = request.amount ?? Retain_V1_Amount()
        let accountID = AccountAddress.user(request.userId, amount.asset)
        let metadata = [
            "actor": request.actor, "requested": String(amount.value),
            "allow_partial": request.allowPartial ? "true" : "false",
        ]
        if let existing = recordRef(request.transferId) {
            let record = records[existing]
            guard record.type == .transfer, record.kind == .penalty, accounts[record.debit].id == accountID,
                record.reason == request.reason, record.metadata == metadata
            else {
                return refuse(.existsWithDifferentBody, "transfer \(request.transferId) exists with a different body")
            }
            outcome.results = [success(0, existing, replayed: true)]
            outcome.penalized = record.amount
            outcome.replayed = true
            return
        }
        let available = accountRef(accountID).map { accounts[$0].available } ?? 0
        let taken = request.allowPartial ? min(amount.value, available) : amount.value
        guard taken > 0, taken <= available else {
            return refuse(.insufficientFunds, "\(accountID) has \(available) available, the penalty is \(amount.value)")
        }
        let transfer = Retain_V1_Transfer(
            transferId: request.transferId, debitAccountId: accountID, creditAccountId: "penalty:\(amount.asset)",
            amount: taken, asset: amount.asset, kind: .penalty, reason: request.reason, metadata: metadata)
        let results = applyBatch([transfer], at: at, ownIDs: false)
        guard results[0].code == .ok else { return refuse(results[0].code, results[0].message) }
        outcome.results = results
        outcome.penalized = taken
    }

    /// The transfers a referral reward consists of: the inviter's, then the invitee's.
    func referralTransfers(_ request: Retain_V1_RewardReferralRequest) -> [Retain_V1_Transfer] {
        let ids = LedgerNames.referralTransferIDs(invitee: request.userId)
        let metadata = ["inviter": request.inviterUserId, "invitee": request.userId, "campaign": request.campaignId]
        var transfers: [Retain_V1_Transfer] = []
        for (id, user, reward) in [
            (ids.inviter, request.inviterUserId, request.inviterReward),
            (ids.invitee, request.userId, request.inviteeReward),
        ] {
            guard let reward, reward.value > 0 else { continue }
            transfers.append(
                Retain_V1_Transfer(
                    transferId: id, debitAccountId: "budget:\(request.campaignId):\(reward.asset)",
                    creditAccountId: AccountAddress.user(user, reward.asset), amount: reward.value, asset: reward.asset,
                    kind: .referralReward, expiresAtMs: request.expiresAtMs, reason: "referral of \(request.userId)",
                    metadata: metadata))
        }
        if transfers.count == 2 { transfers[0].linked = true }
        return transfers
    }

    /// Rewards inviter and invitee once per invitee, as one linked pair.
    mutating func applyReferral(_ request: Retain_V1_RewardReferralRequest, at: Int64) {
        let transfers = referralTransfers(request)
        let ids = LedgerNames.referralTransferIDs(invitee: request.userId)
        let existing = [ids.inviter, ids.invitee].compactMap { recordRef($0) }
        if !existing.isEmpty {
            let same =
                existing.count == transfers.count
                && zip(existing, transfers).allSatisfy { records[$0.0].transferId == $0.1.transferId && sameBody($0.0, $0.1) }
            guard same else {
                return refuse(
                    .existsWithDifferentBody,
                    "invitee \(request.userId) was already rewarded with a different inviter, campaign or amounts")
            }
            outcome.results = existing.enumerated().map { success($0.offset, $0.element, replayed: true) }
            outcome.replayed = true
            return
        }
        if request.inviterDailyCap > 0,
            referralsRewarded(inviter: request.inviterUserId, onDayOf: at) >= Int(request.inviterDailyCap)
        {
            outcome.inviterCapped = true
            return
        }
        let results = applyBatch(transfers, at: at, ownIDs: true)
        if let failed = results.first(where: { $0.code != .ok && $0.code != .linkedEventFailed }) {
            outcome.error = .rewardRefused(failed.code, "referral reward refused, nothing was paid: \(failed.message)")
            return
        }
        outcome.results = results
    }

    /// How many referrals rewarded `inviter` on the UTC day of `at`: the inviter's referral
    /// credits (on any asset) committed that day, read newest first from its postings.
    func referralsRewarded(inviter: String, onDayOf at: Int64) -> Int {
        let dayStart = at - ((at % 86_400_000) + 86_400_000) % 86_400_000
        var count = 0
        for index in userAccounts[inviter] ?? [] {
            for posting in accounts[index].postings.reversed() {
                let record = records[posting.record]
                if record.committedAt < dayStart { break }
                if record.committedAt >= dayStart + 86_400_000 { continue }
                if record.kind == .referralReward, record.credit == index, record.metadata["inviter"] == inviter { count += 1 }
            }
        }
        return count
    }
}
