/// One user's event keys (``EventIDSet/key(userID:eventID:)``, never 0), in the order recorded:
/// the user's duplicate-event check, and what moves with the user (online resharding).
///
/// A user's keys are looked up in their own list: up to ``linearLimit`` of them by a scan of one
/// short array; past it, through an index of positions (an open-addressing table of `UInt32`,
/// at most three quarters full) beside the list, so a user with many events finds a key in one
/// short probe run. Keeping the keys only here, not also in a shard-wide set, halves what the
/// events of a million users cost in memory and in snapshots.
package struct EventKeyList: Sendable, Equatable {
    /// The keys, in the order recorded.
    package private(set) var keys: [UInt64] = []
    /// Positions in `keys` plus one (0: an empty slot), for lists longer than ``linearLimit``;
    /// empty otherwise.
    private var slots: [UInt32] = []

    /// Lists up to this long are scanned rather than indexed.
    static let linearLimit = 32

    package init() {}

    /// The list of `keys` (distinct, never 0), in their order.
    package init(_ keys: [UInt64]) {
        self.keys = keys
        if keys.count > Self.linearLimit { rebuildIndex() }
    }

    /// Keys listed.
    package var count: Int { keys.count }

    package var isEmpty: Bool { keys.isEmpty }

    /// Whether `key` is listed.
    package func contains(_ key: UInt64) -> Bool {
        guard !slots.isEmpty else { return keys.contains(key) }
        let mask = slots.count - 1
        var index = Int(truncatingIfNeeded: key) & mask
        while true {
            let slot = slots[index]
            if slot == 0 { return false }
            if keys[Int(slot) - 1] == key { return true }
            index = (index + 1) & mask
        }
    }

    /// Lists `key` (never 0) unless it is already; returns whether it was added.
    @discardableResult
    package mutating func insert(_ key: UInt64) -> Bool {
        guard !contains(key) else { return false }
        if keys.count == keys.capacity {
            // A quarter more at a time rather than double: most users have few events, and the
            // list's unused tail is paid for by every one of them.
            keys.reserveCapacity(keys.count + max(4, keys.count / 4))
        }
        keys.append(key)
        if slots.isEmpty {
            if keys.count > Self.linearLimit { rebuildIndex() }
        } else if keys.count * 4 > slots.count * 3 {
            rebuildIndex()
        } else {
            place(keys.count - 1)
        }
        return true
    }

    /// The index sized for the keys listed now (the smallest power of two at least 64 that
    /// they fill at most three quarters of), every key placed again.
    private mutating func rebuildIndex() {
        var size = 64
        while keys.count * 4 > size * 3 { size *= 2 }
        slots = [UInt32](repeating: 0, count: size)
        for position in keys.indices { place(position) }
    }

    /// Enters the key at `position` in the index.
    private mutating func place(_ position: Int) {
        let mask = slots.count - 1
        var index = Int(truncatingIfNeeded: keys[position]) & mask
        while slots[index] != 0 { index = (index + 1) & mask }
        slots[index] = UInt32(position + 1)
    }

    package static func == (lhs: EventKeyList, rhs: EventKeyList) -> Bool { lhs.keys == rhs.keys }
}
