/// Reads several ordered posting lists as one, in ascending or descending order: the union of
/// the lists of a filter's alternatives (statuses NEW or TRIAGED, teams a or b).
package struct MergedWalker<Key: Comparable & Sendable> {
    private var walkers: [OrderedIndex<Key>.Walker]
    private var heads: [Key?]
    private let ascending: Bool

    package init(_ walkers: [OrderedIndex<Key>.Walker], ascending: Bool) {
        self.walkers = walkers
        self.ascending = ascending
        heads = []
        heads.reserveCapacity(walkers.count)
        for index in self.walkers.indices { heads.append(self.walkers[index].next()) }
    }

    /// The next key of the union, or nil at the end.
    package mutating func next() -> Key? {
        var best: Int?
        for index in heads.indices {
            guard let head = heads[index] else { continue }
            if let current = best, let chosen = heads[current], ascending ? chosen <= head : chosen >= head { continue }
            best = index
        }
        guard let best else { return nil }
        let key = heads[best]
        heads[best] = walkers[best].next()
        return key
    }
}
