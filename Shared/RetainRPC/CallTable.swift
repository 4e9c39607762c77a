/// The calls in flight on one connection, by request id.
///
/// Open addressing with linear probing over a power-of-two table, keyed by the non-zero request
/// id: a lookup, an insert or a removal costs a multiplication and a probe or two, where a
/// `Dictionary` hashes the id with SipHash first (a measurable share of a small call).
struct CallTable<Value> {
    private struct Slot {
        /// 0 marks an empty slot: request ids are never 0.
        var key: UInt32
        var value: Value?
    }

    private var slots: ContiguousArray<Slot>
    private var mask: Int
    /// How many calls the table holds.
    private(set) var count = 0

    /// Creates an empty table.
    init() {
        slots = ContiguousArray(repeating: Slot(key: 0, value: nil), count: 16)
        mask = 15
    }

    /// Whether the table holds no call.
    var isEmpty: Bool { count == 0 }

    private func home(_ key: UInt32) -> Int {
        // Fibonacci hashing spreads consecutive ids over the table.
        Int(truncatingIfNeeded: (UInt64(key) &* 0x9E37_79B9_7F4A_7C15) >> 32) & mask
    }

    private func index(of key: UInt32) -> Int? {
        var index = home(key)
        while true {
            let slotKey = slots[index].key
            if slotKey == key { return index }
            if slotKey == 0 { return nil }
            index = (index + 1) & mask
        }
    }

    /// The call with `key`, or nil; setting nil removes it. `key` must not be 0.
    subscript(key: UInt32) -> Value? {
        get {
            guard key != 0, let index = index(of: key) else { return nil }
            return slots[index].value
        }
        set {
            guard let newValue else {
                removeValue(forKey: key)
                return
            }
            precondition(key != 0, "request id 0 names no call")
            if let index = index(of: key) {
                slots[index].value = newValue
                return
            }
            if (count + 1) * 2 > slots.count { grow() }
            var index = home(key)
            while slots[index].key != 0 { index = (index + 1) & mask }
            slots[index] = Slot(key: key, value: newValue)
            count += 1
        }
    }

    /// Removes the call with `key` and returns it, or returns nil when there is none.
    @discardableResult
    mutating func removeValue(forKey key: UInt32) -> Value? {
        guard key != 0, var hole = index(of: key) else { return nil }
        let removed = slots[hole].value
        // Backward-shift deletion: move later entries of the probe run into the hole, so that
        // lookups never need tombstones.
        var next = (hole + 1) & mask
        while slots[next].key != 0 {
            let wanted = home(slots[next].key)
            // The entry may move to the hole unless its home lies cyclically in (hole, next].
            let staysPut = hole <= next ? (hole < wanted && wanted <= next) : (hole < wanted || wanted <= next)
            if !staysPut {
                slots[hole] = slots[next]
                hole = next
            }
            next = (next + 1) & mask
        }
        slots[hole] = Slot(key: 0, value: nil)
        count -= 1
        return removed
    }

    /// Removes every call.
    mutating func removeAll() {
        guard count > 0 else { return }
        for index in slots.indices where slots[index].key != 0 { slots[index] = Slot(key: 0, value: nil) }
        count = 0
    }

    /// The calls with their ids, in no particular order.
    var entries: [(key: UInt32, value: Value)] {
        slots.compactMap { slot in slot.value.map { (slot.key, $0) } }
    }

    /// The calls, in no particular order.
    var values: [Value] { slots.compactMap(\.value) }

    private mutating func grow() {
        let old = slots
        slots = ContiguousArray(repeating: Slot(key: 0, value: nil), count: old.count * 2)
        mask = slots.count - 1
        count = 0
        for slot in old where slot.key != 0 { self[slot.key] = slot.value }
    }
}
