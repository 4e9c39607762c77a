/// Orders items by submission time; the sequence number breaks ties and makes keys unique.
package struct CreationKey: Comparable, Hashable, Sendable {
    package var createdAtMs: Int64
    package var sequence: UInt32

    package init(createdAtMs: Int64, sequence: UInt32) {
        self.createdAtMs = createdAtMs
        self.sequence = sequence
    }

    package static func < (lhs: Self, rhs: Self) -> Bool {
        lhs.createdAtMs != rhs.createdAtMs ? lhs.createdAtMs < rhs.createdAtMs : lhs.sequence < rhs.sequence
    }
}

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

/// One resolution, for the resolution statistics (SLA breach rate, time to resolve).
package struct ResolutionFact: Comparable, Hashable, Sendable {
    /// When it was resolved.
    package var resolvedAtMs: Int64
    /// From submission, or the last reopening, to resolution.
    package var timeToResolveMs: Int64
    /// The item.
    package var sequence: UInt32
    /// Team at resolution.
    package var team: UInt32
    /// How many resolutions of the item came before (orders two resolutions in the same ms).
    package var ordinal: UInt16
    /// Resolved after the due time.
    package var breached: Bool

    package static func < (lhs: Self, rhs: Self) -> Bool {
        if lhs.resolvedAtMs != rhs.resolvedAtMs { return lhs.resolvedAtMs < rhs.resolvedAtMs }
        return lhs.sequence != rhs.sequence ? lhs.sequence < rhs.sequence : lhs.ordinal < rhs.ordinal
    }
}
