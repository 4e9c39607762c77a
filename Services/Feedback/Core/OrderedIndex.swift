/// A sorted set of keys kept as a list of small sorted chunks, so that inserting or removing
/// one key moves at most a chunk (a few hundred keys) instead of the whole array, and reading
/// in order from any key is a binary search and then a walk.
///
/// The feedback indexes (by status, team, user, due time...) are these, keyed by a time and the
/// item's sequence number, so a page of a listing costs its size, not the number of items.
package struct OrderedIndex<Key: Comparable & Sendable>: Sendable {
    /// A chunk splits in two when it grows past this many keys.
    private static var chunkCapacity: Int { 512 }

    private var chunks: [[Key]] = []
    /// The last key of each chunk, contiguous, so finding a chunk touches one array.
    private var lasts: [Key] = []
    /// Number of keys.
    package private(set) var count = 0

    package init() {}

    /// True when the index holds no key.
    package var isEmpty: Bool { count == 0 }

    /// The chunk where `key` belongs: the first whose last key is not below it, else the last.
    private func chunkIndex(for key: Key) -> Int {
        var low = 0
        var high = lasts.count - 1
        while low < high {
            let middle = (low + high) / 2
            if lasts[middle] < key { low = middle + 1 } else { high = middle }
        }
        return low
    }

    private static func lowerBound(_ key: Key, in chunk: [Key]) -> Int {
        var low = 0
        var high = chunk.count
        while low < high {
            let middle = (low + high) / 2
            if chunk[middle] < key { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// Adds `key`; returns false (changing nothing) when it is already there.
    @discardableResult
    package mutating func insert(_ key: Key) -> Bool {
        guard !chunks.isEmpty else {
            chunks.append([key])
            lasts.append(key)
            count = 1
            return true
        }
        let last = chunks.count - 1
        // The common case: the newest key goes at the end.
        if lasts[last] < key {
            chunks[last].append(key)
            lasts[last] = key
            count += 1
            if chunks[last].count > Self.chunkCapacity { split(last) }
            return true
        }
        let chunk = chunkIndex(for: key)
        let position = Self.lowerBound(key, in: chunks[chunk])
        if position < chunks[chunk].count, chunks[chunk][position] == key { return false }
        chunks[chunk].insert(key, at: position)
        count += 1
        if chunks[chunk].count > Self.chunkCapacity { split(chunk) }
        return true
    }

    private mutating func split(_ chunk: Int) {
        let half = chunks[chunk].count / 2
        let upper = Array(chunks[chunk][half...])
        chunks[chunk].removeSubrange(half...)
        chunks.insert(upper, at: chunk + 1)
        lasts.insert(chunks[chunk][half - 1], at: chunk)
    }

    /// Removes `key`; returns false when it was not there.
    @discardableResult
    package mutating func remove(_ key: Key) -> Bool {
        guard !chunks.isEmpty else { return false }
        let chunk = chunkIndex(for: key)
        let position = Self.lowerBound(key, in: chunks[chunk])
        guard position < chunks[chunk].count, chunks[chunk][position] == key else { return false }
        chunks[chunk].remove(at: position)
        count -= 1
        if chunks[chunk].isEmpty {
            chunks.remove(at: chunk)
            lasts.remove(at: chunk)
        } else if position == chunks[chunk].count {
            lasts[chunk] = chunks[chunk][position - 1]
        }
        return true
    }

    /// Whether `key` is in the index.
    package func contains(_ key: Key) -> Bool {
        guard !chunks.isEmpty else { return false }
        let chunk = chunkIndex(for: key)
        let position = Self.lowerBound(key, in: chunks[chunk])
        return position < chunks[chunk].count && chunks[chunk][position] == key
    }

    /// The number of keys below `key`.
    package func rank(of key: Key) -> Int {
        guard !chunks.isEmpty else { return 0 }
        let chunk = chunkIndex(for: key)
        var below = 0
        for index in 0..<chunk { below += chunks[index].count }
        return below + Self.lowerBound(key, in: chunks[chunk])
    }

    /// The number of keys in `[lower, upper)`.
    package func count(from lower: Key, below upper: Key) -> Int {
        guard lower < upper else { return 0 }
        return rank(of: upper) - rank(of: lower)
    }

    /// The smallest key, if any.
    package var first: Key? { chunks.first?.first }

    /// The largest key, if any.
    package var last: Key? { lasts.last }

    /// A walk in ascending order from the first key not below `start` (from the beginning when
    /// nil), or in descending order from the last key below `start` (from the end when nil).
    package func walk(from start: Key?, ascending: Bool) -> Walker {
        guard !chunks.isEmpty else { return Walker(chunks: chunks, chunk: 0, offset: -1, ascending: ascending) }
        guard let start else {
            return ascending
                ? Walker(chunks: chunks, chunk: 0, offset: 0, ascending: true)
                : Walker(chunks: chunks, chunk: chunks.count - 1, offset: chunks[chunks.count - 1].count - 1, ascending: false)
        }
        let chunk = chunkIndex(for: start)
        let position = Self.lowerBound(start, in: chunks[chunk])
        if ascending {
            return Walker(chunks: chunks, chunk: chunk, offset: position, ascending: true)
        }
        return Walker(chunks: chunks, chunk: chunk, offset: position - 1, ascending: false)
    }

    /// Every key, ascending.
    package var keys: [Key] { chunks.flatMap { $0 } }

    /// Reads an ``OrderedIndex`` in order; it holds its own copy, so the index may change.
    package struct Walker: Sendable {
        fileprivate let chunks: [[Key]]
        fileprivate var chunk: Int
        fileprivate var offset: Int
        fileprivate let ascending: Bool

        /// The next key, or nil at the end.
        package mutating func next() -> Key? {
            if ascending {
                while chunk < chunks.count {
                    if offset < chunks[chunk].count {
                        defer { offset += 1 }
                        return chunks[chunk][offset]
                    }
                    chunk += 1
                    offset = 0
                }
                return nil
            }
            while chunk >= 0, chunk < chunks.count {
                if offset >= 0 {
                    defer { offset -= 1 }
                    return chunks[chunk][offset]
                }
                chunk -= 1
                if chunk >= 0 { offset = chunks[chunk].count - 1 }
            }
            return nil
        }
    }
}
