/// Orders items by priority (highest first, i.e. the lowest number), then due time.
package struct PriorityKey: Comparable, Hashable, Sendable {
    package var dueAtMs: Int64
    package var sequence: UInt32
    package var priority: UInt8

    package init(priority: UInt8, dueAtMs: Int64, sequence: UInt32) {
        self.priority = priority
        self.dueAtMs = dueAtMs
        self.sequence = sequence
    }

    package static func < (lhs: Self, rhs: Self) -> Bool {
        if lhs.priority != rhs.priority { return lhs.priority < rhs.priority }
        return lhs.dueAtMs != rhs.dueAtMs ? lhs.dueAtMs < rhs.dueAtMs : lhs.sequence < rhs.sequence
    }
}
