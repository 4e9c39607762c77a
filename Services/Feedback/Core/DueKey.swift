/// Orders open items by due time, for the overdue listings and statistics. It carries the item's
/// team and priority (not part of the order or identity), so those read no item.
package struct DueKey: Comparable, Hashable, Sendable {
    package var dueAtMs: Int64
    package var sequence: UInt32
    package var team: UInt32
    package var priority: UInt8

    package init(dueAtMs: Int64, sequence: UInt32, team: UInt32 = 0, priority: UInt8 = 0) {
        self.dueAtMs = dueAtMs
        self.sequence = sequence
        self.team = team
        self.priority = priority
    }

    package static func < (lhs: Self, rhs: Self) -> Bool {
        lhs.dueAtMs != rhs.dueAtMs ? lhs.dueAtMs < rhs.dueAtMs : lhs.sequence < rhs.sequence
    }

    package static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.dueAtMs == rhs.dueAtMs && lhs.sequence == rhs.sequence
    }

    package func hash(into hasher: inout Hasher) {
        hasher.combine(dueAtMs)
        hasher.combine(sequence)
    }
}
