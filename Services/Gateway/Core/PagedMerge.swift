/// One page of a list merged from several shards, each already in the list's order: a k-way
/// merge of the shards' pages that takes the first `size` items and says where each shard now
/// stands.
///
/// Each shard is asked for a full page from its position in the caller's ``ShardCursor``. A shard
/// whose page was taken whole moves to its own next token; one whose page was taken in part
/// (`taken` of its items) needs the token after exactly that many: the caller gets it by asking
/// the shard again from the old position for a page of `taken` items (``advances``), since a
/// shard's token is opaque. A shard none of whose items were taken stays where it was.
public struct PagedMerge<Item> {
    /// One shard's answer to its page request.
    public struct ShardPage {
        /// Its items, in the list's order.
        public var items: [Item]
        /// Its next page token; empty when the page was its last.
        public var nextPageToken: String
        /// Items matching over the shard's whole list.
        public var total: UInt64

        public init(items: [Item], nextPageToken: String, total: UInt64) {
            self.items = items
            self.nextPageToken = nextPageToken
            self.total = total
        }
    }

    /// A shard whose next token the caller must fetch: the token after `count` items from
    /// `from`.
    public struct Advance: Equatable {
        /// The shard's index in the cursor.
        public var shard: Int
        /// Where it stood before this page.
        public var from: ShardCursor.Position
        /// How many of its items the page took.
        public var count: Int

        public init(shard: Int, from: ShardCursor.Position, count: Int) {
            self.shard = shard
            self.from = from
            self.count = count
        }
    }

    /// The merged page's items, in order.
    public private(set) var items: [Item] = []
    /// The matching items over all shards.
    public private(set) var total: UInt64 = 0
    /// The cursor after this page; positions of the shards in ``advances`` are still the old
    /// ones until ``advance(_:to:)`` sets them.
    public private(set) var cursor: ShardCursor
    /// The shards whose token after the taken items is still to be fetched.
    public private(set) var advances: [Advance] = []

    /// Merges `pages` (by shard index; a shard without a page, done or missing, contributes
    /// nothing) into a page of at most `size` items.
    ///
    /// - Parameters:
    ///   - cursor: where the shards stood (the caller's token).
    ///   - pages: each asked shard's answer, by index into the cursor's shards.
    ///   - size: the page size.
    ///   - precedes: the list's order; items that compare equal are taken from the shard of
    ///     the lower index first, each shard's own order kept.
    public init(cursor: ShardCursor, pages: [Int: ShardPage], size: Int, precedes: (Item, Item) -> Bool) {
        self.cursor = cursor
        var heads = [Int](repeating: 0, count: cursor.shards.count)
        for page in pages.values { total += page.total }
        while items.count < size {
            var best: Int?
            for shard in pages.keys.sorted() {
                guard let page = pages[shard], heads[shard] < page.items.count else { continue }
                if let current = best {
                    if precedes(page.items[heads[shard]], pages[current]!.items[heads[current]]) { best = shard }
                } else {
                    best = shard
                }
            }
            guard let best else { break }
            items.append(pages[best]!.items[heads[best]])
            heads[best] += 1
        }
        for (shard, page) in pages {
            let taken = heads[shard]
            if taken == page.items.count {
                // Everything it sent was taken: it moves to its own next token.
                self.cursor.positions[shard] = page.nextPageToken.isEmpty ? .done : .at(page.nextPageToken)
            } else if taken > 0 {
                advances.append(Advance(shard: shard, from: cursor.positions[shard], count: taken))
            }
        }
        advances.sort { $0.shard < $1.shard }
    }

    /// Sets the position of an advanced shard from the next token its repeated page gave.
    public mutating func advance(_ shard: Int, to nextPageToken: String) {
        cursor.positions[shard] = nextPageToken.isEmpty ? .done : .at(nextPageToken)
    }
}
