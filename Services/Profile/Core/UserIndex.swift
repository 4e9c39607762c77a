/// User ids to user indices: an open-addressing table of 64-bit slots, each holding 32 bits of
/// the id's ``StableHash`` and the index + 1 (0 marks an empty slot). A lookup compares the
/// stored hash, then the user's own id, so it is exact; it costs one random memory access
/// where a `Dictionary<String, Int32>` costs several, and 8 bytes per slot instead of 20.
/// Ids are never removed (a soft-deleted user keeps theirs).
package struct UserIndex: Sendable {
    private var slots: [UInt64] = []
    /// Ids stored.
    package private(set) var count = 0

    package init() {}

    /// The 32-bit hash an id is filed under.
    @inline(__always)
    package static func hash(_ id: String) -> UInt32 {
        UInt32(truncatingIfNeeded: StableHash.of(id))
    }

    /// The index filed under `hash` for which `matches` is true.
    @inline(__always)
    package func find(hash: UInt32, _ matches: (Int32) -> Bool) -> Int32? {
        guard !slots.isEmpty else { return nil }
        let mask = slots.count - 1
        var position = Int(hash) & mask
        while true {
            let slot = slots[position]
            if slot == 0 { return nil }
            if UInt32(truncatingIfNeeded: slot >> 32) == hash {
                let index = Int32(truncatingIfNeeded: slot & 0xffff_ffff) - 1
                if matches(index) { return index }
            }
            position = (position + 1) & mask
        }
    }

    /// Files `index` under `hash` (the id must not be filed yet).
    package mutating func insert(hash: UInt32, index: Int32) {
        if (count + 1) * 2 > slots.count { grow(to: max(1024, slots.count * 2)) }
        place(UInt64(hash) << 32 | UInt64(UInt32(index) + 1))
        count += 1
    }

    /// Makes room for `capacity` ids without growing again.
    package mutating func reserveCapacity(_ capacity: Int) {
        var size = 1024
        while size < capacity * 2 { size *= 2 }
        if size > slots.count { grow(to: size) }
    }

    private mutating func place(_ slot: UInt64) {
        let mask = slots.count - 1
        var position = Int(truncatingIfNeeded: slot >> 32) & mask
        while slots[position] != 0 { position = (position + 1) & mask }
        slots[position] = slot
    }

    private mutating func grow(to size: Int) {
        let old = slots
        slots = [UInt64](repeating: 0, count: size)
        for slot in old where slot != 0 { place(slot) }
    }
}
