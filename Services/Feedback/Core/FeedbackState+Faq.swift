public import RetainProto

extension FeedbackState {
    /// One group as the FAQ shows it, judged from its members' current state.
    private struct FaqSummary {
        var number: Int
        var askCount: Int
        var lastAskedMs: Int64
        var latestMember: UInt32
        var id: String

        /// FAQ order: most asked first, then latest asked, then id.
        func precedes(_ other: FaqSummary) -> Bool {
            if askCount != other.askCount { return askCount > other.askCount }
            if lastAskedMs != other.lastAskedMs { return lastAskedMs > other.lastAskedMs }
            return id < other.id
        }
    }

    /// Whether member `sequence` of a group of `category` counts: a question, resolved or
    /// closed, still in that category.
    private func isLiveQuestion(_ sequence: UInt32, category: UInt32) -> Bool {
        let item = items[Int(sequence)]
        return !item.isOpen && item.kind == UInt8(Retain_V1_FeedbackKind.question.rawValue) && item.category == category
            && item.outcome != 0
    }

    /// GetFaq: groups of near-identical resolved questions, most asked first, each with the
    /// question as most recently asked and the answer given most recently.
    public func faqPage(_ request: Retain_V1_GetFaqRequest) throws(RPCError) -> Retain_V1_GetFaqResponse {
        let size = try pageSize(of: request.page)
        var unpaged = request
        unpaged.page = nil
        let queryHash = PageToken.hash(of: unpaged)
        var after: FaqSummary?
        if let text = request.page?.pageToken, !text.isEmpty {
            let token = try PageToken(decoding: text, kind: "q", queryHash: queryHash, fields: 3)
            after = FaqSummary(number: -1, askCount: Int(try token.integer(0)), lastAskedMs: try token.integer(1),
                               latestMember: 0, id: token.cursor[2])
        }
        let minimum = max(Int(request.minAsks), 1)
        let wanted: Set<UInt32>? = request.categories.isEmpty ? nil : Set(request.categories.compactMap { categories.lookup($0) })
        var summaries: [FaqSummary] = []
        var total = 0
        for (number, group) in faq.groups.enumerated() where wanted?.contains(group.category) ?? true {
            var summary = FaqSummary(number: number, askCount: 0, lastAskedMs: .min, latestMember: 0, id: group.id)
            for member in group.members where isLiveQuestion(member, category: group.category) {
                summary.askCount += 1
                let created = items[Int(member)].createdAtMs
                if created > summary.lastAskedMs || (created == summary.lastAskedMs && member > summary.latestMember) {
                    summary.lastAskedMs = created
                    summary.latestMember = member
                }
            }
            guard summary.askCount >= minimum else { continue }
            total += 1
            if let after, !after.precedes(summary) { continue }
            summaries.append(summary)
        }
        summaries.sort { $0.precedes($1) }
        var next = ""
        if summaries.count > size {
            summaries.removeSubrange(size...)
            let last = summaries[size - 1]
            next = PageToken(kind: "q", queryHash: queryHash, asOfMs: 0,
                             cursor: [String(last.askCount), String(last.lastAskedMs), last.id]).encoded
        }
        return Retain_V1_GetFaqResponse(entries: summaries.map(entry), pageInfo: Retain_V1_PageInfo(nextPageToken: next, total: UInt64(total)))
    }

    private func entry(_ summary: FaqSummary) -> Retain_V1_FaqEntry {
        let group = faq.groups[summary.number]
        let live = group.members.filter { isLiveQuestion($0, category: group.category) }
        let latest = live.sorted { lhs, rhs in
            let left = items[Int(lhs)].createdAtMs
            let right = items[Int(rhs)].createdAtMs
            return left != right ? left > right : lhs > rhs
        }
        var answerSource = group.latestAnswer?.sequence
        if answerSource.map({ !live.contains($0) }) ?? true {
            answerSource = live.max { lhs, rhs in
                let left = fold(lhs, history: false).item.resolution?.resolvedAtMs ?? 0
                let right = fold(rhs, history: false).item.resolution?.resolvedAtMs ?? 0
                return left != right ? left < right : lhs < rhs
            }
        }
        return Retain_V1_FaqEntry(
            groupId: group.id, category: categories[group.category], question: texts[Int(summary.latestMember)],
            answer: answerSource.flatMap { fold($0, history: false).item.resolution?.answer } ?? "",
            askCount: UInt32(clamping: summary.askCount), lastAskedMs: summary.lastAskedMs,
            itemIds: latest.prefix(10).map { items[Int($0)].key.description })
    }
}
