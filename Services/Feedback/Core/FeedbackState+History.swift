import RetainState
public import RetainProto

extension FeedbackState {
    /// The length of a "month" for complaint frequency.
    static let monthMs: Int64 = 30 * 86_400_000

    /// GetUserFeedbackHistory: what support should know about a user, from the user's own
    /// posting list (so the cost is the user's item count).
    ///
    /// Complaints per month divide the complaints by the months the range spans (for all time:
    /// from the first submission to now), counting at least one month, so that one complaint
    /// today reads as 1 per month rather than thousands.
    public func userHistory(_ request: Retain_V1_GetUserFeedbackHistoryRequest, nowMs: Int64) -> Retain_V1_GetUserFeedbackHistoryResponse {
        var response = Retain_V1_GetUserFeedbackHistoryResponse()
        let kinds: [Retain_V1_FeedbackKind] = [.suggestion, .complaint, .bug, .question]
        response.byKind = kinds.map { Retain_V1_FeedbackKindCount(kind: $0) }
        guard let user = users.symbol(request.userId) else { return response }
        let from = request.range.map { $0.startMs != 0 ? $0.startMs : .min } ?? .min
        let before = request.range.map { $0.endMs != 0 ? $0.endMs : .max } ?? .max
        var outcomes: [Int32: UInt64] = [:]
        var paid: [String: Int64] = [:]
        var open: [PriorityKey] = []
        var walker = FeedbackIndexes.list(indexes.byUser, user).walk(from: nil, ascending: true)
        while let key = walker.next() {
            let item = items[Int(key.sequence)]
            if item.isOpen { open.append(PriorityKey(priority: item.priority, dueAtMs: item.dueAtMs, sequence: key.sequence)) }
            guard item.createdAtMs >= from, item.createdAtMs < before else { continue }
            response.totalItems += 1
            let kindIndex = Int(item.kind) - 1
            if response.byKind.indices.contains(kindIndex) {
                response.byKind[kindIndex].total += 1
                if item.isOpen { response.byKind[kindIndex].openCount += 1 } else { response.byKind[kindIndex].doneCount += 1 }
            }
            if item.outcome != 0 { outcomes[Int32(item.outcome), default: 0] += 1 }
            if item.kind == UInt8(Retain_V1_FeedbackKind.complaint.rawValue) { response.complaintCount += 1 }
            if item.reopenCount > 0 { response.reopenedCount += 1 }
            if item.compensation == UInt8(Retain_V1_CompensationState.paid.rawValue),
                let amount = fold(key.sequence, history: false).item.compensation?.amount
            {
                paid[amount.asset, default: 0] += amount.value
            }
            if response.firstSubmittedMs == 0 || item.createdAtMs < response.firstSubmittedMs {
                response.firstSubmittedMs = item.createdAtMs
            }
            response.lastSubmittedMs = max(response.lastSubmittedMs, item.createdAtMs)
        }
        response.byOutcome = outcomes.keys.sorted().map {
            Retain_V1_FeedbackOutcomeCount(outcome: .init(rawValue: $0), count: outcomes[$0] ?? 0)
        }
        response.compensationPaid = paid.keys.sorted().map { Retain_V1_Amount(value: paid[$0] ?? 0, asset: $0) }
        if response.totalItems > 0 {
            response.complaintShare = Double(response.complaintCount) / Double(response.totalItems)
            let start = from != .min ? from : response.firstSubmittedMs
            let end = before != .max ? min(before, max(nowMs, start)) : max(nowMs, start)
            let months = max(Double(end - start) / Double(Self.monthMs), 1)
            response.complaintsPerMonth = Double(response.complaintCount) / months
        }
        response.openCount = UInt64(open.count)
        let limit = request.openLimit == 0 ? 20 : Int(request.openLimit)
        response.openItems = open.sorted().prefix(limit).map { answer($0.sequence, full: false, asOfMs: nowMs) }
        return response
    }
}
