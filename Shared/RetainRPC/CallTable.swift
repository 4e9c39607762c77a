/// The calls in flight on one client connection, by request id: an open-addressing table.
///
/// A `Dictionary<UInt32, _>` hashes every id through SipHash (about a hundred instructions per
/// insert and per removal). Here an id's slot is a Fibonacci hash of the id (one
/// multiplication), which spreads a connection's consecutive ids evenly, so probe runs stay
/// short (with the ids' low bits as the slot, the calls in flight would form one long run that
/// every removal walks). Linear probing, removal by shifting later entries back (no
/// tombstones), at most half full. Id 0 (connection frames) is never stored.
struct CallTable<Value> {
    private struct Slot {
        /// 0 when the slot is empty.
        var id: UInt32 = 0
        var value: Value?
    }

    private var slots: [Slot]
    private var mask: Int
    /// 32 minus the bits of a slot index.
    private var shift: UInt32
    /// Calls in the table.
    private(set) var count = 0

    /// An empty table with room for `capacity` calls before it grows.
    init(capacity: Int = 16) {
        var size = 16
        while size < capacity * 2 { size *= 2 }
        slots = Array(repeating: Slot(), count: size)
        mask = size - 1
        shift = UInt32(32 - size.trailingZeroBitCount)
    }

    /// The slot where the probe for `id` starts.
    private func home(_ id: UInt32) -> Int {
        Int(truncatingIfNeeded: (id &* 0x9E37_79B9) >> shift)
    }

    var isEmpty: Bool { count == 0 }

    /// The slot holding call `id`, or nil.
    private func index(of id: UInt32) -> Int? {
        guard id != 0 else { return nil }
        var index = home(id)
        while true {
            let found = slots[index].id
            if found == id { return index }
            if found == 0 { return nil }
            index = (index &+ 1) & mask
        }
    }

    /// Whether call `id` is in the table.
    func contains(_ id: UInt32) -> Bool { index(of: id) != nil }

    /// Call `id`, or nil.
    subscript(id: UInt32) -> Value? { index(of: id).flatMap { slots[$0].value } }

    /// Adds call `id`, or replaces the call of that id. `id` must not be 0.
    mutating func insert(_ value: consuming Value, for id: UInt32) {
        precondition(id != 0, "request id 0 names the connection, not a call")
        if (count + 1) * 2 > slots.count { grow() }
        // One probe finds either the call of this id or the empty slot that ends its run.
        var index = home(id)
        while true {
            let found = slots[index].id
            if found == id {
                slots[index].value = value
                return
            }
            if found == 0 { break }
            index = (index &+ 1) & mask
        }
        slots[index].id = id
        slots[index].value = consume value
        count += 1
    }

    /// What `body` reads of call `id` in place, or nil when there is no such call. `body` is
    /// handed the slot's optional (never nil): reading through it with `?.` projects the field,
    /// where unwrapping it first would copy the whole value (a retain and a release of each
    /// reference it holds).
    func read<R>(_ id: UInt32, _ body: (borrowing Value?) -> R?) -> R? {
        guard let index = index(of: id) else { return nil }
        return body(slots[index].value)
    }

    /// Changes call `id` in place (no copy of its value); false when there is no such call.
    @discardableResult
    mutating func update(_ id: UInt32, _ body: (inout Value) -> Void) -> Bool {
        guard let index = index(of: id) else { return false }
        body(&slots[index].value!)
        return true
    }

    /// Removes call `id` and returns it, or nil when there is no such call.
    @discardableResult
    mutating func remove(_ id: UInt32) -> Value? {
        guard var hole = index(of: id) else { return nil }
        // Moved out and swapped rather than copied: no retain and release of what a call holds.
        let removed = slots[hole].value.take()
        slots[hole].id = 0
        count -= 1
        // Shift back the entries of the run after the hole that may not stay behind it.
        var next = (hole &+ 1) & mask
        while slots[next].id != 0 {
            let start = home(slots[next].id)
            if (next &- start) & mask >= (next &- hole) & mask {
                slots.swapAt(hole, next)
                hole = next
            }
            next = (next &+ 1) & mask
        }
        return removed
    }

    /// Calls `body` with every call and its id, in no particular order.
    func forEach(_ body: (UInt32, Value) -> Void) {
        for slot in slots where slot.id != 0 { body(slot.id, slot.value!) }
    }

    /// Removes every call whose id satisfies `predicate` and returns them (ids and calls).
    mutating func removeAll(where predicate: (UInt32) -> Bool = { _ in true }) -> [(id: UInt32, value: Value)] {
        var removed: [(id: UInt32, value: Value)] = []
        for slot in slots where slot.id != 0 && predicate(slot.id) { removed.append((slot.id, slot.value!)) }
        if removed.count == count {
            for index in slots.indices { slots[index] = Slot() }
            count = 0
        } else {
            for entry in removed { remove(entry.id) }
        }
        return removed
    }

    /// Doubles the slots and places every call again.
    private mutating func grow() {
        let old = slots
        slots = Array(repeating: Slot(), count: old.count * 2)
        mask = slots.count - 1
        shift -= 1
        count = 0
        for slot in old where slot.id != 0 { insert(slot.value!, for: slot.id) }
    }
}
