/// The secondary indexes of the feedback state: one ordered posting list per status, kind,
/// priority, compensation state, team, category, user and assignee (keyed by creation time),
/// the open items by due time, every item by priority and due time, the open counts per team
/// and priority, and the resolutions by time. A filter reads the smallest matching list.
package struct FeedbackIndexes: Sendable {
    /// Every item by creation.
    package var all = OrderedIndex<CreationKey>()
    /// By ``Retain_V1_FeedbackStatus`` raw value (0 unused).
    package var byStatus = [OrderedIndex<CreationKey>](repeating: .init(), count: 8)
    /// By ``Retain_V1_FeedbackKind`` raw value.
    package var byKind = [OrderedIndex<CreationKey>](repeating: .init(), count: 5)
    /// Resolved or closed items by ``Retain_V1_FeedbackKind`` raw value (for statistics).
    package var byKindDone = [OrderedIndex<CreationKey>](repeating: .init(), count: 5)
    /// By ``Retain_V1_FeedbackPriority`` raw value.
    package var byPriority = [OrderedIndex<CreationKey>](repeating: .init(), count: 5)
    /// By ``Retain_V1_CompensationState`` raw value (0: no compensation).
    package var byCompensation = [OrderedIndex<CreationKey>](repeating: .init(), count: 3)
    /// By team symbol.
    package var byTeam: [OrderedIndex<CreationKey>] = []
    /// By category symbol.
    package var byCategory: [OrderedIndex<CreationKey>] = []
    /// By user symbol.
    package var byUser: [OrderedIndex<CreationKey>] = []
    /// By assignee symbol (0, unassigned, is not kept).
    package var byAssignee: [OrderedIndex<CreationKey>] = []
    /// The same status, kind, priority and compensation sets as bits, for combining filters.
    package var statusBits = [Bitset](repeating: .init(), count: 8)
    package var kindBits = [Bitset](repeating: .init(), count: 5)
    package var priorityBits = [Bitset](repeating: .init(), count: 5)
    package var compensationBits = [Bitset](repeating: .init(), count: 3)
    /// Every item by priority, then due time.
    package var byPriorityDue = OrderedIndex<PriorityKey>()
    /// Open items by due time.
    package var openByDue = OrderedIndex<DueKey>()
    /// Open items per (team symbol << 8 | priority).
    package var openCounts: [UInt64: Int] = [:]
    /// Every resolution, by time.
    package var resolutions = OrderedIndex<ResolutionFact>()

    package init() {}

    private static func add(_ key: CreationKey, to lists: inout [OrderedIndex<CreationKey>], at symbol: UInt32) {
        let index = Int(symbol)
        if lists.count <= index { lists.append(contentsOf: repeatElement(OrderedIndex(), count: index + 1 - lists.count)) }
        lists[index].insert(key)
    }

    private static func remove(_ key: CreationKey, from lists: inout [OrderedIndex<CreationKey>], at symbol: UInt32) {
        let index = Int(symbol)
        if index < lists.count { lists[index].remove(key) }
    }

    package static func openCountKey(team: UInt32, priority: UInt8) -> UInt64 { UInt64(team) << 8 | UInt64(priority) }

    /// Adds a new item.
    package mutating func insert(_ item: StoredItem, sequence: UInt32) {
        let key = CreationKey(createdAtMs: item.createdAtMs, sequence: sequence)
        all.insert(key)
        byStatus[Int(item.status)].insert(key)
        byKind[Int(item.kind)].insert(key)
        byPriority[Int(item.priority)].insert(key)
        byCompensation[Int(item.compensation)].insert(key)
        statusBits[Int(item.status)].insert(sequence)
        kindBits[Int(item.kind)].insert(sequence)
        priorityBits[Int(item.priority)].insert(sequence)
        compensationBits[Int(item.compensation)].insert(sequence)
        Self.add(key, to: &byTeam, at: item.team)
        Self.add(key, to: &byCategory, at: item.category)
        Self.add(key, to: &byUser, at: item.user)
        if item.assignee != 0 { Self.add(key, to: &byAssignee, at: item.assignee) }
        byPriorityDue.insert(PriorityKey(priority: item.priority, dueAtMs: item.dueAtMs, sequence: sequence))
        if item.isOpen {
            openByDue.insert(DueKey(dueAtMs: item.dueAtMs, sequence: sequence, team: item.team, priority: item.priority))
            openCounts[Self.openCountKey(team: item.team, priority: item.priority), default: 0] += 1
        }
    }

    /// Moves an item from its old values to its new ones (creation time, kind and user never
    /// change).
    package mutating func update(from old: StoredItem, to new: StoredItem, sequence: UInt32) {
        let key = CreationKey(createdAtMs: old.createdAtMs, sequence: sequence)
        if old.status != new.status {
            byStatus[Int(old.status)].remove(key)
            byStatus[Int(new.status)].insert(key)
            statusBits[Int(old.status)].remove(sequence)
            statusBits[Int(new.status)].insert(sequence)
        }
        if old.priority != new.priority {
            byPriority[Int(old.priority)].remove(key)
            byPriority[Int(new.priority)].insert(key)
            priorityBits[Int(old.priority)].remove(sequence)
            priorityBits[Int(new.priority)].insert(sequence)
        }
        if old.compensation != new.compensation {
            byCompensation[Int(old.compensation)].remove(key)
            byCompensation[Int(new.compensation)].insert(key)
            compensationBits[Int(old.compensation)].remove(sequence)
            compensationBits[Int(new.compensation)].insert(sequence)
        }
        if old.team != new.team {
            Self.remove(key, from: &byTeam, at: old.team)
            Self.add(key, to: &byTeam, at: new.team)
        }
        if old.category != new.category {
            Self.remove(key, from: &byCategory, at: old.category)
            Self.add(key, to: &byCategory, at: new.category)
        }
        if old.assignee != new.assignee {
            if old.assignee != 0 { Self.remove(key, from: &byAssignee, at: old.assignee) }
            if new.assignee != 0 { Self.add(key, to: &byAssignee, at: new.assignee) }
        }
        if old.priority != new.priority || old.dueAtMs != new.dueAtMs {
            byPriorityDue.remove(PriorityKey(priority: old.priority, dueAtMs: old.dueAtMs, sequence: sequence))
            byPriorityDue.insert(PriorityKey(priority: new.priority, dueAtMs: new.dueAtMs, sequence: sequence))
        }
        if old.isOpen != new.isOpen || old.dueAtMs != new.dueAtMs || old.team != new.team || old.priority != new.priority {
            if old.isOpen { openByDue.remove(DueKey(dueAtMs: old.dueAtMs, sequence: sequence)) }
            if new.isOpen { openByDue.insert(DueKey(dueAtMs: new.dueAtMs, sequence: sequence, team: new.team, priority: new.priority)) }
        }
        if old.isOpen != new.isOpen {
            let kind = Int(old.kind)
            if old.isOpen { byKindDone[kind].insert(key) } else { byKindDone[kind].remove(key) }
        }
        if old.isOpen != new.isOpen || old.team != new.team || old.priority != new.priority {
            if old.isOpen {
                let countKey = Self.openCountKey(team: old.team, priority: old.priority)
                let remaining = (openCounts[countKey] ?? 1) - 1
                openCounts[countKey] = remaining > 0 ? remaining : nil
            }
            if new.isOpen { openCounts[Self.openCountKey(team: new.team, priority: new.priority), default: 0] += 1 }
        }
    }

    /// The posting list of `symbol` in `lists`, empty when there is none.
    package static func list(_ lists: [OrderedIndex<CreationKey>], _ symbol: UInt32?) -> OrderedIndex<CreationKey> {
        guard let symbol, Int(symbol) < lists.count else { return OrderedIndex() }
        return lists[Int(symbol)]
    }
}
