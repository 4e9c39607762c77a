import RetainState
public import RetainProto

extension FeedbackState {
    /// ListOverdue: open items past their due time at `as_of_ms` (now when 0, or the first
    /// page's time when a token is given), earliest due time first, read from the open-by-due
    /// index so the cost is the number of overdue items, not of all items.
    public func listOverdue(_ request: Retain_V1_ListOverdueRequest, nowMs: Int64) throws(FeedbackError) -> Retain_V1_ListOverdueResponse {
        let size = try pageSize(of: request.page)
        var unpaged = request
        unpaged.page = nil
        unpaged.asOfMs = 0
        let queryHash = PageToken.hash(of: unpaged)
        var asOf = request.asOfMs != 0 ? request.asOfMs : nowMs
        var start: DueKey?
        if let text = request.page?.pageToken, !text.isEmpty {
            let token = try PageToken(decoding: text, kind: "o", queryHash: queryHash, fields: 2)
            if request.asOfMs == 0 { asOf = token.asOfMs }
            start = DueKey(dueAtMs: try token.integer(0), sequence: UInt32(clamping: try token.integer(1) + 1))
        }
        let teamSymbols: Set<UInt32>? = request.teams.isEmpty ? nil : Set(request.teams.compactMap { teams.symbol($0) })
        let priorityMask: UInt32? =
            request.priorities.isEmpty
            ? nil
            : request.priorities.reduce(0) { $0 | (1 << UInt32(clamping: $1.rawValue)) }
        func matches(_ key: DueKey) -> Bool {
            if teamSymbols?.contains(key.team) == false { return false }
            if let priorityMask, priorityMask & (1 << UInt32(key.priority)) == 0 { return false }
            return true
        }
        let end = DueKey(dueAtMs: asOf, sequence: 0)
        var page: [UInt32] = []
        var total = 0
        if teamSymbols == nil, priorityMask == nil {
            total = indexes.openByDue.rank(of: end)
            var walker = indexes.openByDue.walk(from: start, ascending: true)
            while page.count <= size, let key = walker.next(), key < end { page.append(key.sequence) }
        } else if teamSymbols?.isEmpty != true {
            var walker = indexes.openByDue.walk(from: nil, ascending: true)
            while let key = walker.next(), key < end {
                guard matches(key) else { continue }
                total += 1
                if page.count <= size, start.map({ key >= $0 }) ?? true { page.append(key.sequence) }
            }
        }
        var next = ""
        if page.count > size {
            page.removeLast()
            let last = items[Int(page[page.count - 1])]
            next =
                PageToken(
                    kind: "o", queryHash: queryHash, asOfMs: asOf,
                    cursor: [String(last.dueAtMs), String(page[page.count - 1])]
                ).encoded
        }
        return Retain_V1_ListOverdueResponse(
            items: page.map { answer($0, full: false, asOfMs: asOf) },
            pageInfo: Retain_V1_PageInfo(nextPageToken: next, total: UInt64(total)))
    }
}
