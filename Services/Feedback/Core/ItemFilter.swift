import RetainState
package import RetainProto

/// A ``Retain_V1_FeedbackFilter`` resolved against the state's symbols: bit masks for enums,
/// symbol sets for names, so testing one item costs a few comparisons.
package struct ItemFilter: Sendable {
    /// Bit n set: raw value n allowed; nil means any.
    package var statuses: UInt32?
    package var kinds: UInt32?
    package var priorities: UInt32?
    package var compensation: UInt8?
    package var teams: Set<UInt32>?
    package var categories: Set<UInt32>?
    package var user: UInt32?
    package var assignee: UInt32?
    /// Only items overdue at this time.
    package var overdueAsOfMs: Int64?
    /// Only items created in [start, end).
    package var createdFrom: Int64 = .min
    package var createdBefore: Int64 = .max
    package var text: TextNeedle?
    /// True when a named user, team, category or agent does not exist: nothing matches.
    package var matchesNothing = false

    /// How many separate conditions are set.
    package var conditionCount: Int {
        [
            statuses != nil, kinds != nil, priorities != nil, compensation != nil, teams != nil, categories != nil,
            user != nil, assignee != nil, overdueAsOfMs != nil, createdFrom != .min || createdBefore != .max, text != nil,
        ]
        .filter { $0 }.count
    }

    /// Resolves `filter`, judging "overdue" at `asOfMs`.
    package init(_ filter: Retain_V1_FeedbackFilter?, state: borrowing FeedbackState, asOfMs: Int64) {
        guard let filter else { return }
        func mask<E: ProtoEnum>(_ values: [E]) -> UInt32? {
            values.isEmpty ? nil : values.reduce(0) { $0 | (1 << UInt32(clamping: $1.rawValue)) }
        }
        statuses = mask(filter.statuses)
        kinds = mask(filter.kinds)
        priorities = mask(filter.priorities)
        if filter.compensationState != .unspecified { compensation = UInt8(clamping: filter.compensationState.rawValue) }
        func symbols(_ names: [String], _ table: SymbolTable<UInt32>) -> Set<UInt32>? {
            guard !names.isEmpty else { return nil }
            let found = Set(names.compactMap { table.symbol($0) })
            return found
        }
        teams = symbols(filter.teams, state.teams)
        categories = symbols(filter.categories, state.categories)
        if teams?.isEmpty == true || categories?.isEmpty == true { matchesNothing = true }
        if !filter.userId.isEmpty {
            if let symbol = state.users.symbol(filter.userId) { user = symbol } else { matchesNothing = true }
        }
        if !filter.assignee.isEmpty {
            if let symbol = state.agents.symbol(filter.assignee) { assignee = symbol } else { matchesNothing = true }
        }
        if filter.overdueOnly { overdueAsOfMs = asOfMs }
        if let created = filter.created {
            if created.startMs != 0 { createdFrom = created.startMs }
            if created.endMs != 0 { createdBefore = created.endMs }
        }
        if !filter.textContains.isEmpty { text = TextNeedle(filter.textContains) }
    }

    /// Whether `item` (number `sequence`, with its text in `texts`) meets every condition.
    /// Optional chaining keeps the sets and the needle borrowed: no reference counting per item.
    @inline(__always)
    package func matches(_ item: StoredItem, _ sequence: UInt32, texts: borrowing TextStore) -> Bool {
        if let statuses, statuses & (1 << UInt32(item.status)) == 0 { return false }
        if let kinds, kinds & (1 << UInt32(item.kind)) == 0 { return false }
        if let priorities, priorities & (1 << UInt32(item.priority)) == 0 { return false }
        if let compensation, item.compensation != compensation { return false }
        if let user, item.user != user { return false }
        if let assignee, item.assignee != assignee { return false }
        if teams?.contains(item.team) == false { return false }
        if categories?.contains(item.category) == false { return false }
        if let overdueAsOfMs, !item.isOverdue(at: overdueAsOfMs) { return false }
        if item.createdAtMs < createdFrom || item.createdAtMs >= createdBefore { return false }
        if let text, !texts.withBytes(Int(sequence), { text.matches(utf8: $0) }) { return false }
        return true
    }
}
