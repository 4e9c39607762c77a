/// A sorted list of distinct elements with logarithmic rank and select, for leaderboards of
/// millions of rows.
///
/// Elements live in sorted chunks of about ``chunkLoad`` elements; a Fenwick tree over the
/// chunk sizes turns a chunk index into the number of elements before it and back:
///
/// ```
/// maxima:  [  c0.last  |  c1.last  |  c2.last  ]   binary search: which chunk holds e
/// chunks:  [ a b c ... ] [ k l ... ] [ x y ... ]   binary search: where in the chunk
/// fenwick: prefix sums of chunk sizes             elements before the chunk, O(log chunks)
/// ```
///
/// `insert`, `remove`, `lowerBound` and `element(at:)` are O(log n) comparisons plus a move of at
/// most `2 * chunkLoad` elements inside one chunk. Chunks are separate arrays, so a copy of the
/// list (a snapshot) shares them and a later change copies only the chunk it touches.
struct OrderStatisticsList<Element: Comparable> {
    /// Elements per chunk after a split; a chunk splits when it reaches twice this.
    static var chunkLoad: Int { 512 }

    private var chunks: [[Element]] = []
    private var maxima: [Element] = []
    /// 1-based Fenwick tree over `chunks[i].count`.
    private var tree: [Int] = [0]

    /// The number of elements.
    private(set) var count = 0

    /// An empty list.
    init() {}

    /// A list holding `sorted`, which must be strictly increasing.
    init<S: Sequence>(sorted: S) where S.Element == Element {
        var chunk: [Element] = []
        chunk.reserveCapacity(Self.chunkLoad)
        for element in sorted {
            chunk.append(element)
            if chunk.count == Self.chunkLoad {
                chunks.append(chunk)
                chunk = []
                chunk.reserveCapacity(Self.chunkLoad)
            }
        }
        if !chunk.isEmpty { chunks.append(chunk) }
        maxima = chunks.map { $0[$0.count - 1] }
        count = chunks.reduce(0) { $0 + $1.count }
        rebuildTree()
    }

    /// Whether the list is empty.
    var isEmpty: Bool { count == 0 }

    /// Inserts `element`; returns false (changing nothing) when it is present already.
    @discardableResult
    mutating func insert(_ element: Element) -> Bool {
        if chunks.isEmpty {
            chunks = [[element]]
            maxima = [element]
            count = 1
            rebuildTree()
            return true
        }
        var chunkIndex = firstChunk(notBelow: element)
        if chunkIndex == chunks.count { chunkIndex -= 1 }
        let position = Self.lowerBound(element, in: chunks[chunkIndex])
        if position < chunks[chunkIndex].count, chunks[chunkIndex][position] == element { return false }
        if chunks[chunkIndex].count == chunks[chunkIndex].capacity {
            // Grow by an eighth of the load, not by doubling: chunks stay nearly full (a doubled
            // chunk holds a third spare on average; 1M rows of a board are about 27 MB less).
            chunks[chunkIndex].reserveCapacity(chunks[chunkIndex].count + Self.chunkLoad / 8)
        }
        chunks[chunkIndex].insert(element, at: position)
        if position == chunks[chunkIndex].count - 1 { maxima[chunkIndex] = element }
        count += 1
        if chunks[chunkIndex].count >= 2 * Self.chunkLoad {
            let upper = Array(chunks[chunkIndex][Self.chunkLoad...])
            chunks[chunkIndex] = Array(chunks[chunkIndex][..<Self.chunkLoad])
            maxima[chunkIndex] = chunks[chunkIndex][Self.chunkLoad - 1]
            chunks.insert(upper, at: chunkIndex + 1)
            maxima.insert(upper[upper.count - 1], at: chunkIndex + 1)
            rebuildTree()
        } else {
            add(1, toChunk: chunkIndex)
        }
        return true
    }

    /// Removes `element`; returns false when it was not present.
    @discardableResult
    mutating func remove(_ element: Element) -> Bool {
        let chunkIndex = firstChunk(notBelow: element)
        guard chunkIndex < chunks.count else { return false }
        let position = Self.lowerBound(element, in: chunks[chunkIndex])
        guard position < chunks[chunkIndex].count, chunks[chunkIndex][position] == element else { return false }
        chunks[chunkIndex].remove(at: position)
        count -= 1
        if chunks[chunkIndex].isEmpty {
            chunks.remove(at: chunkIndex)
            maxima.remove(at: chunkIndex)
            rebuildTree()
        } else {
            if position == chunks[chunkIndex].count { maxima[chunkIndex] = chunks[chunkIndex][position - 1] }
            add(-1, toChunk: chunkIndex)
        }
        return true
    }

    /// The number of elements less than `element`: its position if present.
    func lowerBound(_ element: Element) -> Int {
        let chunkIndex = firstChunk(notBelow: element)
        guard chunkIndex < chunks.count else { return count }
        return prefixCount(chunkIndex) + Self.lowerBound(element, in: chunks[chunkIndex])
    }

    /// The position of `element`, or nil when it is not present.
    func position(of element: Element) -> Int? {
        let chunkIndex = firstChunk(notBelow: element)
        guard chunkIndex < chunks.count else { return nil }
        let position = Self.lowerBound(element, in: chunks[chunkIndex])
        guard position < chunks[chunkIndex].count, chunks[chunkIndex][position] == element else { return nil }
        return prefixCount(chunkIndex) + position
    }

    /// The element at `position` (0 is the smallest).
    func element(at position: Int) -> Element {
        precondition(position >= 0 && position < count, "position \(position) out of 0..<\(count)")
        let (chunk, offset) = locate(position)
        return chunks[chunk][offset]
    }

    /// The elements at `positions`, in order.
    func elements(in positions: Range<Int>) -> [Element] {
        let range = positions.clamped(to: 0..<count)
        guard !range.isEmpty else { return [] }
        var result: [Element] = []
        result.reserveCapacity(range.count)
        var (chunk, offset) = locate(range.lowerBound)
        while result.count < range.count {
            let take = min(chunks[chunk].count - offset, range.count - result.count)
            result.append(contentsOf: chunks[chunk][offset..<offset + take])
            chunk += 1
            offset = 0
        }
        return result
    }

    /// Every element in order.
    var allElements: [Element] { chunks.flatMap { $0 } }

    // MARK: Chunks and the Fenwick tree

    /// The first chunk whose largest element is not below `element` (chunks.count when none).
    private func firstChunk(notBelow element: Element) -> Int {
        var low = 0
        var high = maxima.count
        while low < high {
            let middle = (low + high) / 2
            if maxima[middle] < element { low = middle + 1 } else { high = middle }
        }
        return low
    }

    private static func lowerBound(_ element: Element, in chunk: [Element]) -> Int {
        var low = 0
        var high = chunk.count
        while low < high {
            let middle = (low + high) / 2
            if chunk[middle] < element { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// The chunk holding `position` and the offset inside it, by descending the tree.
    private func locate(_ position: Int) -> (chunk: Int, offset: Int) {
        var remaining = position
        var index = 0
        var step = 1
        while step * 2 < tree.count { step *= 2 }
        while step > 0 {
            let next = index + step
            if next < tree.count, tree[next] <= remaining {
                index = next
                remaining -= tree[next]
            }
            step /= 2
        }
        return (index, remaining)
    }

    /// The number of elements in chunks before `chunkIndex`.
    private func prefixCount(_ chunkIndex: Int) -> Int {
        var sum = 0
        var index = chunkIndex
        while index > 0 {
            sum += tree[index]
            index -= index & -index
        }
        return sum
    }

    private mutating func add(_ delta: Int, toChunk chunkIndex: Int) {
        var index = chunkIndex + 1
        while index < tree.count {
            tree[index] += delta
            index += index & -index
        }
    }

    private mutating func rebuildTree() {
        tree = [Int](repeating: 0, count: chunks.count + 1)
        for chunkIndex in chunks.indices {
            let index = chunkIndex + 1
            tree[index] += chunks[chunkIndex].count
            let parent = index + (index & -index)
            if parent < tree.count { tree[parent] += tree[index] }
        }
    }
}

extension OrderStatisticsList: Sendable where Element: Sendable {}
