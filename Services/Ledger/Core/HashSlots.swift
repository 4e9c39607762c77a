import CPrefetch

/// An open-addressing table from 64-bit hashes to indexes (linear probing, at most 3/4 full,
/// backward-shift deletion): the probe behind ``StringIndex``. The key already is a hash, so a
/// lookup hashes nothing again, and a slot holds the hash beside its value, so a probe reads one
/// cache line where `Dictionary<UInt64, Int32>` reads three (its bitmap, keys and values).
struct HashSlots: Sendable {
    /// One slot: a hash and its value; empty when the value is negative.
    struct Slot: Sendable {
        var hash: UInt64
        var value: Int32
    }

    private var slots: [Slot] = []
    private(set) var count = 0

    init() {}

    /// The value stored for `hash`, if any.
    @inline(__always)
    func find(_ hash: UInt64) -> Int32? {
        guard count > 0 else { return nil }
        return slots.withUnsafeBufferPointer { slots in
            let mask = slots.count - 1
            var index = Int(truncatingIfNeeded: hash) & mask
            while true {
                let slot = slots[index]
                if slot.value < 0 { return nil }
                if slot.hash == hash { return slot.value }
                index = (index + 1) & mask
            }
        }
    }

    /// Asks the cache for the slot a lookup of `hash` reads first (``find(_:)`` soon after then
    /// finds it loaded).
    @inline(__always)
    func prefetch(_ hash: UInt64) {
        guard count > 0 else { return }
        slots.withUnsafeBufferPointer { slots in
            cprefetch_read(slots.baseAddress! + (Int(truncatingIfNeeded: hash) & (slots.count - 1)))
        }
    }

    /// Stores `value` (>= 0) for `hash` and returns true, or returns false and stores nothing
    /// when `hash` is already stored.
    @inline(__always)
    mutating func insert(_ hash: UInt64, _ value: Int32) -> Bool {
        precondition(value >= 0, "HashSlots stores only values >= 0")
        if (count + 1) * 4 > slots.count * 3 { grow() }
        let inserted = slots.withUnsafeMutableBufferPointer { slots in
            let mask = slots.count - 1
            var index = Int(truncatingIfNeeded: hash) & mask
            while slots[index].value >= 0 {
                if slots[index].hash == hash { return false }
                index = (index + 1) & mask
            }
            slots[index] = Slot(hash: hash, value: value)
            return true
        }
        if inserted { count += 1 }
        return inserted
    }

    /// Removes `hash`, if stored.
    mutating func remove(_ hash: UInt64) {
        guard count > 0 else { return }
        let removed = slots.withUnsafeMutableBufferPointer { slots in
            let mask = slots.count - 1
            var hole = Int(truncatingIfNeeded: hash) & mask
            while slots[hole].hash != hash || slots[hole].value < 0 {
                if slots[hole].value < 0 { return false }
                hole = (hole + 1) & mask
            }
            // Backward shift: pull later entries of the run into the hole unless their home
            // slot lies cyclically in (hole, next].
            var next = (hole + 1) & mask
            while slots[next].value >= 0 {
                let home = Int(truncatingIfNeeded: slots[next].hash) & mask
                if (next &- home) & mask >= (next &- hole) & mask {
                    slots[hole] = slots[next]
                    hole = next
                }
                next = (next + 1) & mask
            }
            slots[hole].value = -1
            return true
        }
        if removed { count -= 1 }
    }

    /// Doubles the slots (16 at first) and re-inserts every entry.
    private mutating func grow() {
        let old = slots
        slots = [Slot](repeating: Slot(hash: 0, value: -1), count: max(16, old.count * 2))
        slots.withUnsafeMutableBufferPointer { slots in
            let mask = slots.count - 1
            for slot in old where slot.value >= 0 {
                var index = Int(truncatingIfNeeded: slot.hash) & mask
                while slots[index].value >= 0 { index = (index + 1) & mask }
                slots[index] = slot
            }
        }
    }
}
