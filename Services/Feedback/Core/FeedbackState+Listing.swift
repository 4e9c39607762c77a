public import RetainProto

/// The sort values of an item, as page tokens carry them.
package struct ListKey: Comparable, Sendable {
    var first: Int64
    var second: Int64
    var third: Int64

    package static func < (lhs: Self, rhs: Self) -> Bool {
        if lhs.first != rhs.first { return lhs.first < rhs.first }
        return lhs.second != rhs.second ? lhs.second < rhs.second : lhs.third < rhs.third
    }

    /// The key of `item` number `sequence` in `sort` order: ascending keys are the page order.
    static func of(_ item: StoredItem, _ sequence: UInt32, sort: Retain_V1_FeedbackSort) -> ListKey {
        let sequence = Int64(sequence)
        switch sort {
        case .oldest: return ListKey(first: item.createdAtMs, second: sequence, third: 0)
        case .priority: return ListKey(first: Int64(item.priority), second: item.dueAtMs, third: sequence)
        case .due: return ListKey(first: item.dueAtMs, second: sequence, third: 0)
        default: return ListKey(first: -item.createdAtMs, second: -sequence, third: 0)
        }
    }
}

/// ListFeedback: the filter's most selective posting list drives the read. When that list is
/// already in the requested order (creation order for newest/oldest, the priority index for an
/// unfiltered priority or due order, the open-by-due index for overdue by due time), the read
/// walks from the page token and stops when the page is full, unless other conditions must be
/// counted; otherwise it reads the list once, counting and keeping the page's items in a heap.
extension FeedbackState {
    /// One page of items matching the filter; see ListFeedbackRequest.
    public func list(_ request: Retain_V1_ListFeedbackRequest, nowMs: Int64) throws(RPCError) -> Retain_V1_ListFeedbackResponse {
        let size = try pageSize(of: request.page)
        var unpaged = request
        unpaged.page = nil
        let queryHash = PageToken.hash(of: unpaged)
        var asOf = nowMs
        var after: ListKey?
        if let text = request.page?.pageToken, !text.isEmpty {
            let token = try PageToken(decoding: text, kind: "l", queryHash: queryHash, fields: 3)
            asOf = token.asOfMs
            after = ListKey(first: try token.integer(0), second: try token.integer(1), third: try token.integer(2))
        }
        let filter = ItemFilter(request.filter, state: self, asOfMs: asOf)
        var (sequences, total) = filter.matchesNothing ? ([], 0) : select(filter, sort: request.sort, after: after, limit: size + 1)
        var response = Retain_V1_ListFeedbackResponse()
        var next = ""
        if sequences.count > size {
            sequences.removeLast()
            let last = ListKey.of(items[Int(sequences[sequences.count - 1])], sequences[sequences.count - 1], sort: request.sort)
            next = PageToken(kind: "l", queryHash: queryHash, asOfMs: asOf,
                             cursor: [String(last.first), String(last.second), String(last.third)]).encoded
        }
        response.items = sequences.map { answer($0, full: false, asOfMs: asOf) }
        response.pageInfo = Retain_V1_PageInfo(nextPageToken: next, total: UInt64(total))
        return response
    }

    /// The candidate lists of one condition, their total size, and whether being in them is the
    /// condition exactly.
    private enum Source {
        /// The union of posting lists in creation order (between two creation keys).
        case creation([OrderedIndex<CreationKey>], from: CreationKey, before: CreationKey)
        /// Open items due before the time.
        case overdue(before: Int64)
    }

    /// The `limit` first matching items after `after` in `sort` order, and how many match in all.
    package func select(_ filter: ItemFilter, sort: Retain_V1_FeedbackSort, after: ListKey?, limit: Int) -> ([UInt32], Int) {
        // Every condition with a posting list offers itself as the driving source.
        var options: [(size: Int, source: Source)] = []
        func offer(_ lists: [OrderedIndex<CreationKey>]) {
            options.append((lists.reduce(0) { $0 + $1.count },
                            .creation(lists, from: CreationKey(createdAtMs: .min, sequence: 0),
                                      before: CreationKey(createdAtMs: .max, sequence: .max))))
        }
        func lists(_ mask: UInt32?, _ all: [OrderedIndex<CreationKey>]) -> [OrderedIndex<CreationKey>]? {
            guard let mask else { return nil }
            return all.indices.filter { mask & (1 << UInt32($0)) != 0 }.map { all[$0] }
        }
        if let chosen = lists(filter.statuses, indexes.byStatus) { offer(chosen) }
        if let chosen = lists(filter.kinds, indexes.byKind) { offer(chosen) }
        if let chosen = lists(filter.priorities, indexes.byPriority) { offer(chosen) }
        if let compensation = filter.compensation, Int(compensation) < indexes.byCompensation.count {
            offer([indexes.byCompensation[Int(compensation)]])
        }
        if let teams = filter.teams { offer(teams.sorted().map { FeedbackIndexes.list(indexes.byTeam, $0) }) }
        if let categories = filter.categories { offer(categories.sorted().map { FeedbackIndexes.list(indexes.byCategory, $0) }) }
        if let user = filter.user { offer([FeedbackIndexes.list(indexes.byUser, user)]) }
        if let assignee = filter.assignee { offer([FeedbackIndexes.list(indexes.byAssignee, assignee)]) }
        if let asOf = filter.overdueAsOfMs {
            options.append((indexes.openByDue.rank(of: DueKey(dueAtMs: asOf, sequence: 0)), .overdue(before: asOf)))
        }
        let from = CreationKey(createdAtMs: filter.createdFrom, sequence: 0)
        let before = CreationKey(createdAtMs: filter.createdBefore, sequence: 0)
        if filter.createdFrom != .min || filter.createdBefore != .max {
            options.append((indexes.all.count(from: from, below: before), .creation([indexes.all], from: from, before: before)))
        }
        let exact = filter.conditionCount <= 1 && filter.text == nil
        if options.isEmpty {
            guard filter.conditionCount > 0 else {
                return (walkInOrder(sort: sort, after: after, limit: limit, filter: nil, budget: .max) ?? [], items.count)
            }
            // Only conditions without an index (text): read every item in storage order, which
            // is sequential in memory, and keep the page in a heap.
            var next: UInt32 = 0
            let count = UInt32(items.count)
            return collectAny(filter, sort: sort, after: after, limit: limit) {
                guard next < count else { return nil }
                defer { next += 1 }
                return next
            }
        }
        let driving = options.min(by: { $0.size < $1.size })!
        let exactTotal = exact ? driving.size : nil
        switch (driving.source, sort) {
        case (.creation(let lists, var lower, var upper), .newest), (.creation(let lists, var lower, var upper), .unspecified),
             (.creation(let lists, var lower, var upper), .oldest):
            let ascending = sort == .oldest
            // With the total known, start at the page token; otherwise read all, to count.
            if exact, let after {
                if ascending {
                    lower = max(lower, CreationKey(createdAtMs: after.first, sequence: UInt32(clamping: after.second + 1)))
                } else {
                    upper = min(upper, CreationKey(createdAtMs: -after.first, sequence: UInt32(clamping: -after.second)))
                }
            }
            let (bottom, top) = (lower, upper)
            var walker = MergedWalker(lists.map { $0.walk(from: ascending ? bottom : top, ascending: ascending) }, ascending: ascending)
            return collectInOrder(filter, sort: sort, after: after, limit: limit, exactTotal: exactTotal) {
                guard let key = walker.next(), ascending ? key < top : key >= bottom else { return nil }
                return key.sequence
            }
        case (.overdue(let before), .due):
            let start = exact ? after.map { DueKey(dueAtMs: $0.first, sequence: UInt32(clamping: $0.second + 1)) } : nil
            var walker = indexes.openByDue.walk(from: start, ascending: true)
            return collectInOrder(filter, sort: sort, after: after, limit: limit, exactTotal: exactTotal) {
                guard let key = walker.next(), key.dueAtMs < before else { return nil }
                return key.sequence
            }
        default:
            break
        }
        // The total is known but the list is not in the page's order: when the matches are
        // common enough, walk every item in the page's order and stop once the page is full
        // (about limit x items / matches reads), falling back to the heap past a budget.
        if let exactTotal, exactTotal > 0, Double(exactTotal) * Double(exactTotal) > Double(limit) * Double(items.count),
           let page = walkInOrder(sort: sort, after: after, limit: limit, filter: filter, budget: 4 * exactTotal + 4 * limit) {
            return (page, exactTotal)
        }
        switch driving.source {
        case .creation(let lists, let lower, let upper):
            var walker = MergedWalker(lists.map { $0.walk(from: lower, ascending: true) }, ascending: true)
            return collectAny(filter, sort: sort, after: after, limit: limit) {
                guard let key = walker.next(), key < upper else { return nil }
                return key.sequence
            }
        case .overdue(let before):
            var walker = indexes.openByDue.walk(from: nil, ascending: true)
            return collectAny(filter, sort: sort, after: after, limit: limit) {
                guard let key = walker.next(), key.dueAtMs < before else { return nil }
                return key.sequence
            }
        }
    }

    /// Every item in `sort` order from the page token, keeping those `filter` (nil: all) accepts
    /// until `limit` are found; nil when `budget` items were read first.
    private func walkInOrder(sort: Retain_V1_FeedbackSort, after: ListKey?, limit: Int, filter: ItemFilter?, budget: Int) -> [UInt32]? {
        var result: [UInt32] = []
        var read = 0
        func offer(_ sequence: UInt32) -> Bool {
            read += 1
            if filter?.matches(items[Int(sequence)], sequence, texts: texts) ?? true { result.append(sequence) }
            return result.count < limit && read < budget
        }
        switch sort {
        case .priority:
            let start = after.map { PriorityKey(priority: UInt8(clamping: $0.first), dueAtMs: $0.second,
                                                sequence: UInt32(clamping: $0.third + 1)) }
            var walker = indexes.byPriorityDue.walk(from: start, ascending: true)
            while let key = walker.next(), offer(key.sequence) {}
        case .due:
            // The priority index is four runs ordered by due time: merge them from the token.
            var walkers = PriorityRules.order.map { priority in
                let start = after.map { PriorityKey(priority: UInt8(priority.rawValue), dueAtMs: $0.first,
                                                    sequence: UInt32(clamping: $0.second + 1)) }
                    ?? PriorityKey(priority: UInt8(priority.rawValue), dueAtMs: .min, sequence: 0)
                return indexes.byPriorityDue.walk(from: start, ascending: true)
            }
            func head(_ index: Int) -> PriorityKey? {
                walkers[index].next().flatMap { $0.priority == UInt8(PriorityRules.order[index].rawValue) ? $0 : nil }
            }
            var heads = walkers.indices.map { head($0) }
            while true {
                var best: Int?
                for index in heads.indices {
                    guard let candidate = heads[index] else { continue }
                    if let current = best, let chosen = heads[current],
                       (chosen.dueAtMs, chosen.sequence) <= (candidate.dueAtMs, candidate.sequence) { continue }
                    best = index
                }
                guard let best, let key = heads[best] else { break }
                heads[best] = head(best)
                if !offer(key.sequence) { break }
            }
        default:
            let ascending = sort == .oldest
            let start: CreationKey? = after.map { key in
                ascending ? CreationKey(createdAtMs: key.first, sequence: UInt32(clamping: key.second + 1))
                    : CreationKey(createdAtMs: -key.first, sequence: UInt32(clamping: -key.second))
            }
            var walker = indexes.all.walk(from: start, ascending: ascending)
            while let key = walker.next(), offer(key.sequence) {}
        }
        return result.count < limit && read >= budget ? nil : result
    }

    /// Candidates arrive in page order: keep the first `limit` after the token; count all
    /// matches unless the total is known.
    private func collectInOrder(_ filter: ItemFilter, sort: Retain_V1_FeedbackSort, after: ListKey?, limit: Int,
                                exactTotal: Int?, next: () -> UInt32?) -> ([UInt32], Int) {
        var result: [UInt32] = []
        var total = 0
        while let sequence = next() {
            let item = items[Int(sequence)]
            guard filter.matches(item, sequence, texts: texts) else { continue }
            total += 1
            if result.count < limit, after.map({ ListKey.of(item, sequence, sort: sort) > $0 }) ?? true {
                result.append(sequence)
                if result.count == limit, exactTotal != nil { break }
            }
        }
        return (result, exactTotal ?? total)
    }

    /// Candidates arrive in any order: count matches, keep the page in a heap.
    private func collectAny(_ filter: ItemFilter, sort: Retain_V1_FeedbackSort, after: ListKey?, limit: Int,
                            next: () -> UInt32?) -> ([UInt32], Int) {
        struct Entry: Comparable {
            var key: ListKey
            var sequence: UInt32
            static func < (lhs: Entry, rhs: Entry) -> Bool { lhs.key < rhs.key }
        }
        var top = TopK<Entry>(capacity: limit)
        var total = 0
        while let sequence = next() {
            let item = items[Int(sequence)]
            guard filter.matches(item, sequence, texts: texts) else { continue }
            total += 1
            let key = ListKey.of(item, sequence, sort: sort)
            if let after, key <= after { continue }
            top.insert(Entry(key: key, sequence: sequence))
        }
        return (top.sorted().map(\.sequence), total)
    }
}
