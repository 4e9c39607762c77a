/// A due time and what is due: a hold (record number) or a lot (lot number).
struct DueItem: Comparable, Sendable {
    var time: Int64
    var reference: Int32

    static func < (lhs: DueItem, rhs: DueItem) -> Bool {
        lhs.time != rhs.time ? lhs.time < rhs.time : lhs.reference < rhs.reference
    }
}

/// A binary min-heap. Its order is total (time, then reference), so pops are deterministic
/// whatever order the items were pushed in: a restored ledger pops what the live one would.
struct MinHeap<Element: Comparable> {
    private(set) var items: [Element] = []

    var isEmpty: Bool { items.isEmpty }
    var count: Int { items.count }
    var top: Element? { items.first }

    mutating func push(_ item: Element) {
        items.append(item)
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard items[child] < items[parent] else { break }
            items.swapAt(child, parent)
            child = parent
        }
    }

    @discardableResult
    mutating func pop() -> Element? {
        guard !items.isEmpty else { return nil }
        let top = items[0]
        let last = items.removeLast()
        guard !items.isEmpty else { return top }
        items[0] = last
        var parent = 0
        while true {
            let left = 2 * parent + 1
            guard left < items.count else { break }
            var smallest = left
            if left + 1 < items.count, items[left + 1] < items[left] { smallest = left + 1 }
            guard items[smallest] < items[parent] else { break }
            items.swapAt(smallest, parent)
            parent = smallest
        }
        return top
    }
}

extension MinHeap: Sendable where Element: Sendable {}
