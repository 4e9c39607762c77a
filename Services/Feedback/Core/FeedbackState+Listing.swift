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

/// ListFeedback. How a page is found (N items in all):
///
/// - A condition with a short posting list (a user's or an agent's items, under N/64) drives:
///   its list is read in creation order and the other conditions are checked per item.
/// - Otherwise the conditions on status, kind, priority, compensation, team, category, user and
///   assignee are combined as bitsets (AND of ORs, a word at a time), which gives the total by
///   popcount. With nothing else to check, the page is read in its own order from the creation
///   or priority index, testing bits, until it is full (about page size x N / total reads);
///   when the matches are rare, the set bits are read and the page kept in a heap.
/// - "Overdue" walks the open items by due time (the page's order for the due sort), testing
///   bits; a time range walks its segment of the creation index; text is searched in the
///   candidates, or in every text, read sequentially from the packed text store.
extension FeedbackState {
    /// One page of items matching the filter; see ListFeedbackRequest.
    public func list(_ request: Retain_V1_ListFeedbackRequest, nowMs: Int64) throws(FeedbackError) -> Retain_V1_ListFeedbackResponse {
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
            next =
                PageToken(
                    kind: "l", queryHash: queryHash, asOfMs: asOf,
                    cursor: [String(last.first), String(last.second), String(last.third)]
                ).encoded
        }
        response.items = sequences.map { answer($0, full: false, asOfMs: asOf) }
        response.pageInfo = Retain_V1_PageInfo(nextPageToken: next, total: UInt64(total))
        return response
    }

    /// The posting lists of each set condition, as alternatives (their union is the condition).
    private func conditionLists(_ filter: ItemFilter) -> [[OrderedIndex<CreationKey>]] {
        func lists(_ mask: UInt32?, _ all: [OrderedIndex<CreationKey>]) -> [OrderedIndex<CreationKey>]? {
            guard let mask else { return nil }
            return all.indices.filter { mask & (1 << UInt32($0)) != 0 }.map { all[$0] }
        }
        var result: [[OrderedIndex<CreationKey>]] = []
        if let chosen = lists(filter.statuses, indexes.byStatus) { result.append(chosen) }
        if let chosen = lists(filter.kinds, indexes.byKind) { result.append(chosen) }
        if let chosen = lists(filter.priorities, indexes.byPriority) { result.append(chosen) }
        if let compensation = filter.compensation { result.append([indexes.byCompensation[Int(compensation)]]) }
        if let teams = filter.teams { result.append(teams.sorted().map { FeedbackIndexes.list(indexes.byTeam, $0) }) }
        if let categories = filter.categories { result.append(categories.sorted().map { FeedbackIndexes.list(indexes.byCategory, $0) }) }
        if let user = filter.user { result.append([FeedbackIndexes.list(indexes.byUser, user)]) }
        if let assignee = filter.assignee { result.append([FeedbackIndexes.list(indexes.byAssignee, assignee)]) }
        return result
    }

    /// The items meeting every posting-list condition, as bits; nil when there is none.
    private func mask(_ filter: ItemFilter, lists: [[OrderedIndex<CreationKey>]]) -> Bitset? {
        var result: Bitset?
        func combine(_ set: Bitset) {
            if result == nil { result = set } else { result!.formIntersection(set) }
        }
        func union(_ mask: UInt32?, _ bits: [Bitset]) {
            guard let mask else { return }
            var set = Bitset(capacity: items.count)
            for index in bits.indices where mask & (1 << UInt32(index)) != 0 { set.formUnion(bits[index]) }
            combine(set)
        }
        // Maintained bitsets first; then the name conditions' lists, turned into bits.
        union(filter.statuses, indexes.statusBits)
        union(filter.kinds, indexes.kindBits)
        union(filter.priorities, indexes.priorityBits)
        if let compensation = filter.compensation { combine(indexes.compensationBits[Int(compensation)]) }
        let enumConditions = [filter.statuses != nil, filter.kinds != nil, filter.priorities != nil, filter.compensation != nil]
            .filter { $0 }.count
        for alternatives in lists.dropFirst(enumConditions) {
            var set = Bitset(capacity: items.count)
            for list in alternatives {
                var walker = list.walk(from: nil, ascending: true)
                while let key = walker.next() { set.insert(key.sequence) }
            }
            combine(set)
        }
        return result
    }

    /// The `limit` first matching items after `after` in `sort` order, and how many match in all.
    package func select(_ filter: ItemFilter, sort: Retain_V1_FeedbackSort, after: ListKey?, limit: Int) -> ([UInt32], Int) {
        let lists = conditionLists(filter)
        let sizes = lists.map { $0.reduce(0) { $0 + $1.count } }
        let others = [filter.overdueAsOfMs != nil, filter.createdFrom != .min || filter.createdBefore != .max, filter.text != nil]
            .filter { $0 }.count
        let accept = { (sequence: UInt32) in filter.matches(self.items[Int(sequence)], sequence, texts: self.texts) }

        // A short list drives.
        if let smallest = sizes.indices.min(by: { sizes[$0] < sizes[$1] }), sizes[smallest] * 64 < items.count {
            let exactTotal = lists.count == 1 && others == 0 ? sizes[smallest] : nil
            return selectFromLists(lists[smallest], sort: sort, after: after, limit: limit, exactTotal: exactTotal, accept: accept)
        }
        let bits = mask(filter, lists: lists)

        // Overdue: walk the open items by due time, testing bits.
        if let asOf = filter.overdueAsOfMs {
            let end = DueKey(dueAtMs: asOf, sequence: 0)
            let exactTotal = bits == nil && others == 1 ? indexes.openByDue.rank(of: end) : nil
            // Walked keys are overdue: only the other conditions need checking.
            let acceptDue = { (sequence: UInt32) -> Bool in
                (bits?.contains(sequence) ?? true) && (others == 1 || accept(sequence))
            }
            let start =
                exactTotal != nil && sort == .due ? after.map { DueKey(dueAtMs: $0.first, sequence: UInt32(clamping: $0.second + 1)) } : nil
            var walker = indexes.openByDue.walk(from: start, ascending: true)
            let next = { () -> UInt32? in
                guard let key = walker.next(), key < end else { return nil }
                return key.sequence
            }
            if sort == .due {
                return collectInOrder(sort: sort, after: after, limit: limit, exactTotal: exactTotal, accept: acceptDue, next: next)
            }
            if let exactTotal, Double(exactTotal) * Double(exactTotal) > Double(limit) * Double(items.count),
                let page = walkInOrder(sort: sort, after: after, limit: limit, accept: accept, budget: 4 * exactTotal + 4 * limit)
            {
                return (page, exactTotal)
            }
            return collectAny(sort: sort, after: after, limit: limit, accept: acceptDue, next: next)
        }

        if let bits {
            let total = bits.count
            if others == 0 {
                // The total is known: read the page in its order while matches are common.
                if Double(total) * Double(total) > Double(limit) * Double(items.count),
                    let page = walkInOrder(
                        sort: sort, after: after, limit: limit, accept: { bits.contains($0) },
                        budget: 4 * total + 4 * limit)
                {
                    return (page, total)
                }
                return (collectBits(bits, sort: sort, after: after, limit: limit, accept: { _ in true }).0, total)
            }
            return collectBits(bits, sort: sort, after: after, limit: limit, accept: accept)
        }

        // Only a time range and text.
        if filter.createdFrom != .min || filter.createdBefore != .max {
            let lower = CreationKey(createdAtMs: filter.createdFrom, sequence: 0)
            let upper = CreationKey(createdAtMs: filter.createdBefore, sequence: 0)
            let range = [OrderedIndex<CreationKey>]([indexes.all])
            let exactTotal = filter.text == nil ? indexes.all.count(from: lower, below: upper) : nil
            return selectFromLists(
                range, lower: lower, upper: upper, sort: sort, after: after, limit: limit,
                exactTotal: exactTotal, accept: accept)
        }
        if filter.text != nil {
            // Every text, in storage order (sequential in memory).
            var next: UInt32 = 0
            let count = UInt32(items.count)
            return collectAny(sort: sort, after: after, limit: limit, accept: accept) {
                guard next < count else { return nil }
                defer { next += 1 }
                return next
            }
        }
        return (walkInOrder(sort: sort, after: after, limit: limit, accept: { _ in true }, budget: .max) ?? [], items.count)
    }

    /// Reads the union of creation-ordered `lists` (between two keys): in the page's order for
    /// newest and oldest, else into a heap.
    private func selectFromLists(
        _ lists: [OrderedIndex<CreationKey>],
        lower: CreationKey = CreationKey(createdAtMs: .min, sequence: 0),
        upper: CreationKey = CreationKey(createdAtMs: .max, sequence: .max),
        sort: Retain_V1_FeedbackSort, after: ListKey?, limit: Int, exactTotal: Int?,
        accept: (UInt32) -> Bool
    ) -> ([UInt32], Int) {
        switch sort {
        case .newest, .unspecified, .oldest:
            let ascending = sort == .oldest
            var lower = lower
            var upper = upper
            // With the total known, start at the page token; otherwise read all, to count.
            if exactTotal != nil, let after {
                if ascending {
                    lower = max(lower, CreationKey(createdAtMs: after.first, sequence: UInt32(clamping: after.second + 1)))
                } else {
                    upper = min(upper, CreationKey(createdAtMs: -after.first, sequence: UInt32(clamping: -after.second)))
                }
            }
            let (bottom, top) = (lower, upper)
            var walker = MergedWalker(lists.map { $0.walk(from: ascending ? bottom : top, ascending: ascending) }, ascending: ascending)
            return collectInOrder(sort: sort, after: after, limit: limit, exactTotal: exactTotal, accept: accept) {
                guard let key = walker.next(), ascending ? key < top : key >= bottom else { return nil }
                return key.sequence
            }
        default:
            var walker = MergedWalker(lists.map { $0.walk(from: lower, ascending: true) }, ascending: true)
            return collectAny(sort: sort, after: after, limit: limit, accept: accept) {
                guard let key = walker.next(), key < upper else { return nil }
                return key.sequence
            }
        }
    }

    /// Reads the members of `bits` in storage order, counting those `accept` keeps, the page in
    /// a heap.
    private func collectBits(
        _ bits: Bitset, sort: Retain_V1_FeedbackSort, after: ListKey?, limit: Int,
        accept: (UInt32) -> Bool
    ) -> ([UInt32], Int) {
        var top = TopK<ListEntry>(capacity: limit)
        var total = 0
        bits.forEach { sequence in
            guard accept(sequence) else { return true }
            total += 1
            let key = ListKey.of(items[Int(sequence)], sequence, sort: sort)
            if after.map({ key > $0 }) ?? true { top.insert(ListEntry(key: key, sequence: sequence)) }
            return true
        }
        return (top.sorted().map(\.sequence), total)
    }

    /// Every item in `sort` order from the page token, keeping those `accept` keeps until
    /// `limit` are found; nil when `budget` items were read first.
    private func walkInOrder(
        sort: Retain_V1_FeedbackSort, after: ListKey?, limit: Int, accept: (UInt32) -> Bool,
        budget: Int
    ) -> [UInt32]? {
        var result: [UInt32] = []
        var read = 0
        func offer(_ sequence: UInt32) -> Bool {
            read += 1
            if accept(sequence) { result.append(sequence) }
            return result.count < limit && read < budget
        }
        switch sort {
        case .priority:
            let start = after.map {
                PriorityKey(
                    priority: UInt8(clamping: $0.first), dueAtMs: $0.second,
                    sequence: UInt32(clamping: $0.third + 1))
            }
            var walker = indexes.byPriorityDue.walk(from: start, ascending: true)
            while let key = walker.next(), offer(key.sequence) {}
        case .due:
            // The priority index is four runs ordered by due time: merge them from the token.
            var walkers = PriorityRules.order.map { priority in
                let start =
                    after.map {
                        PriorityKey(
                            priority: UInt8(priority.rawValue), dueAtMs: $0.first,
                            sequence: UInt32(clamping: $0.second + 1))
                    }
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
                        (chosen.dueAtMs, chosen.sequence) <= (candidate.dueAtMs, candidate.sequence)
                    {
                        continue
                    }
                    best = index
                }
                guard let best, let key = heads[best] else { break }
                heads[best] = head(best)
                if !offer(key.sequence) { break }
            }
        default:
            let ascending = sort == .oldest
            let start: CreationKey? = after.map { key in
                ascending
                    ? CreationKey(createdAtMs: key.first, sequence: UInt32(clamping: key.second + 1))
                    : CreationKey(createdAtMs: -key.first, sequence: UInt32(clamping: -key.second))
            }
            var walker = indexes.all.walk(from: start, ascending: ascending)
            while let key = walker.next(), offer(key.sequence) {}
        }
        return result.count < limit && read >= budget ? nil : result
    }

    /// Candidates arrive in page order: keep the first `limit` after the token; count all
    /// matches unless the total is known.
    private func collectInOrder(
        sort: Retain_V1_FeedbackSort, after: ListKey?, limit: Int, exactTotal: Int?,
        accept: (UInt32) -> Bool, next: () -> UInt32?
    ) -> ([UInt32], Int) {
        var result: [UInt32] = []
        var total = 0
        while let sequence = next() {
            guard accept(sequence) else { continue }
            total += 1
            if result.count < limit, after.map({ ListKey.of(items[Int(sequence)], sequence, sort: sort) > $0 }) ?? true {
                result.append(sequence)
                if result.count == limit, exactTotal != nil { break }
            }
        }
        return (result, exactTotal ?? total)
    }

    /// Candidates arrive in any order: count matches, keep the page in a heap.
    private func collectAny(
        sort: Retain_V1_FeedbackSort, after: ListKey?, limit: Int,
        accept: (UInt32) -> Bool, next: () -> UInt32?
    ) -> ([UInt32], Int) {
        var top = TopK<ListEntry>(capacity: limit)
        var total = 0
        while let sequence = next() {
            guard accept(sequence) else { continue }
            total += 1
            let key = ListKey.of(items[Int(sequence)], sequence, sort: sort)
            if let after, key <= after { continue }
            top.insert(ListEntry(key: key, sequence: sequence))
        }
        return (top.sorted().map(\.sequence), total)
    }
}

/// An item in a page heap.
private struct ListEntry: Comparable {
    var key: ListKey
    var sequence: UInt32

    static func < (lhs: ListEntry, rhs: ListEntry) -> Bool { lhs.key < rhs.key }
}
