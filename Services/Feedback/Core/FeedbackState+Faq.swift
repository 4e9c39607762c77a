import RetainState
public import RetainProto

extension FeedbackState {
    /// FAQ order: most asked first, then latest asked, then group id.
    private struct FaqRank: Comparable {
        var askCount: Int
        var lastAskedMs: Int64
        var id: String

        static func < (lhs: FaqRank, rhs: FaqRank) -> Bool {
            if lhs.askCount != rhs.askCount { return lhs.askCount > rhs.askCount }
            if lhs.lastAskedMs != rhs.lastAskedMs { return lhs.lastAskedMs > rhs.lastAskedMs }
            return lhs.id < rhs.id
        }
    }

    /// GetFaq: groups of near-identical resolved questions, most asked first, each with the
    /// question as most recently asked and the answer given most recently. Each group keeps
    /// its counting members in an index, so a page costs the number of groups, not of questions.
    public func faqPage(_ request: Retain_V1_GetFaqRequest) throws(FeedbackError) -> Retain_V1_GetFaqResponse {
        let size = try pageSize(of: request.page)
        var unpaged = request
        unpaged.page = nil
        let queryHash = PageToken.hash(of: unpaged)
        var after: FaqRank?
        if let text = request.page?.pageToken, !text.isEmpty {
            let token = try PageToken(decoding: text, kind: "q", queryHash: queryHash, fields: 3)
            after = FaqRank(askCount: Int(try token.integer(0)), lastAskedMs: try token.integer(1), id: token.cursor[2])
        }
        let minimum = max(Int(request.minAsks), 1)
        let wanted: Set<UInt32>? = request.categories.isEmpty ? nil : Set(request.categories.compactMap { categories.symbol($0) })
        var ranked: [(rank: FaqRank, number: Int)] = []
        var total = 0
        for (number, group) in faq.groups.enumerated() where group.live.count >= minimum {
            if wanted?.contains(group.category) == false { continue }
            total += 1
            let rank = FaqRank(askCount: group.live.count, lastAskedMs: group.live.last?.createdAtMs ?? 0, id: group.id)
            if let after, rank <= after { continue }
            ranked.append((rank, number))
        }
        ranked.sort { $0.rank < $1.rank }
        var next = ""
        if ranked.count > size {
            ranked.removeSubrange(size...)
            let last = ranked[size - 1].rank
            next =
                PageToken(
                    kind: "q", queryHash: queryHash, asOfMs: 0,
                    cursor: [String(last.askCount), String(last.lastAskedMs), last.id]
                ).encoded
        }
        return Retain_V1_GetFaqResponse(
            entries: ranked.map { entry(faq.groups[$0.number]) },
            pageInfo: Retain_V1_PageInfo(nextPageToken: next, total: UInt64(total)))
    }

    private func entry(_ group: FaqIndex.Group) -> Retain_V1_FaqEntry {
        var latest: [UInt32] = []
        var walker = group.live.walk(from: nil, ascending: false)
        while latest.count < 10, let key = walker.next() { latest.append(key.sequence) }
        var answerSource = group.latestAnswer?.sequence
        let isLive = { (sequence: UInt32) in
            let item = self.items[Int(sequence)]
            return group.live.contains(CreationKey(createdAtMs: item.createdAtMs, sequence: sequence))
        }
        if answerSource.map({ !isLive($0) }) ?? true {
            // The latest answer's item no longer counts: take the latest answer among those that do.
            answerSource = group.live.keys.map(\.sequence).max { lhs, rhs in
                let left = fold(lhs, history: false).item.resolution?.resolvedAtMs ?? 0
                let right = fold(rhs, history: false).item.resolution?.resolvedAtMs ?? 0
                return left != right ? left < right : lhs < rhs
            }
        }
        return Retain_V1_FaqEntry(
            groupId: group.id, category: categories[group.category], question: latest.first.map { texts[Int($0)] } ?? "",
            answer: answerSource.flatMap { fold($0, history: false).item.resolution?.answer } ?? "",
            askCount: UInt32(clamping: group.live.count), lastAskedMs: group.live.last?.createdAtMs ?? 0,
            itemIds: latest.map { items[Int($0)].key.description })
    }
}
