/// The set of (user, event_id) pairs already recorded, kept as 64-bit hashes so that duplicate
/// events are recognised without keeping the events. The hashes are of the user's id and the
/// event id (``key(userID:eventID:)``), the same on every shard; a data directory written
/// before keeps its older hashes of (user index, event id) in a second, legacy set
/// (``key(userIndex:eventID:)``, ``ProfileState/legacyEventIDs``).
///
/// 256 shards, each an open-addressing table with linear probing (0 marks an empty slot).
/// Sharding keeps each table growing on its own (no 2x spike for the whole set), while few
/// enough shards keep their headers in cache, so that a lookup costs one random access.
///
/// A new event is taken for a duplicate only if its 64-bit hash equals that of an event
/// already recorded: about n / 2^64 per event for n events recorded, negligible.
package struct EventIDSet: Sendable {
    /// Number of shards.
    package static let shardCount = 1 << shardBits
    private static let shardBits = 8

    private var shards: [Shard]
    /// Hashes stored.
    package private(set) var count = 0

    package init() {
        shards = Array(repeating: Shard(), count: Self.shardCount)
    }

    /// The hash that stands for `eventID` of user `userID`; never 0. The same on every shard,
    /// so a moved user's events keep their hashes.
    package static func key(userID: String, eventID: String) -> UInt64 {
        var hasher = StableHash()
        hasher.combine(userID)
        hasher.combine(UInt64(0xFF))
        hasher.combine(eventID)
        let value = hasher.value
        return value == 0 ? 1 : value
    }

    /// The legacy hash of `eventID` of user `userIndex` (a shard-local index), of sets written
    /// before hashes were keyed by user id; never 0.
    package static func key(userIndex: Int32, eventID: String) -> UInt64 {
        var hasher = StableHash()
        hasher.combine(UInt64(UInt32(bitPattern: userIndex)))
        hasher.combine(eventID)
        let value = hasher.value
        return value == 0 ? 1 : value
    }

    /// Whether `key` is in the set.
    package func contains(_ key: UInt64) -> Bool {
        shards[Self.shard(of: key)].contains(key)
    }

    /// Inserts `key`; returns false when it was already there.
    @discardableResult
    package mutating func insert(_ key: UInt64) -> Bool {
        let inserted = shards[Self.shard(of: key)].insert(key)
        if inserted { count += 1 }
        return inserted
    }

    private static func shard(of key: UInt64) -> Int { Int(key >> UInt64(64 - shardBits)) }

    /// One shard for snapshots: its table size, a bitmap of the occupied slots (least
    /// significant bit first) and the stored hashes in slot order, little-endian.
    package func shardContents(_ shard: Int) -> (slotCount: Int, occupied: [UInt8], hashes: [UInt8]) {
        let table = shards[shard]
        var occupied = [UInt8](repeating: 0, count: (table.slots.count + 7) / 8)
        var hashes = [UInt8](repeating: 0, count: table.count * 8)
        hashes.withUnsafeMutableBytes { out in
            occupied.withUnsafeMutableBufferPointer { bitmap in
                table.slots.withUnsafeBufferPointer { slots in
                    var written = 0
                    for index in 0..<slots.count where slots[index] != 0 {
                        bitmap[index >> 3] |= 1 << UInt8(index & 7)
                        out.storeBytes(of: slots[index].littleEndian, toByteOffset: written * 8, as: UInt64.self)
                        written += 1
                    }
                }
            }
        }
        return (table.slots.count, occupied, hashes)
    }

    /// Replaces one shard with what ``shardContents(_:)`` produced.
    package mutating func restoreShard(
        _ shard: Int, slotCount: Int, occupied: [UInt8], hashes: [UInt8]
    ) throws(EventIDSetError) {
        guard shard >= 0, shard < Self.shardCount else { throw EventIDSetError("shard \(shard) out of range") }
        guard slotCount == 0 || slotCount.nonzeroBitCount == 1, occupied.count == (slotCount + 7) / 8,
            hashes.count % 8 == 0, hashes.count / 8 <= slotCount
        else {
            throw EventIDSetError("shard \(shard): the table of \(slotCount) slots is malformed")
        }
        var slots = [UInt64](repeating: 0, count: slotCount)
        var read = 0
        let stored = hashes.count / 8
        hashes.withUnsafeBytes { raw in
            slots.withUnsafeMutableBufferPointer { table in
                occupied.withUnsafeBytes { bitmap in
                    // A byte at a time, skipping empty ones: tables are about 60% full.
                    for byteIndex in 0..<bitmap.count {
                        var bits = bitmap[byteIndex]
                        while bits != 0 {
                            let index = byteIndex << 3 + bits.trailingZeroBitCount
                            guard read < stored, index < slotCount else {
                                read = -1
                                return
                            }
                            table[index] = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: read * 8, as: UInt64.self))
                            read += 1
                            bits &= bits - 1
                        }
                    }
                }
            }
        }
        guard read == stored else { throw EventIDSetError("shard \(shard): the hashes do not match the occupied slots") }
        count += stored - shards[shard].count
        shards[shard] = Shard(slots: slots, count: stored)
    }

    /// One open-addressing table.
    private struct Shard: Sendable {
        var slots: [UInt64] = []
        var count = 0

        func contains(_ key: UInt64) -> Bool {
            guard !slots.isEmpty else { return false }
            let mask = slots.count - 1
            var index = Int(truncatingIfNeeded: key) & mask
            while true {
                let slot = slots[index]
                if slot == key { return true }
                if slot == 0 { return false }
                index = (index + 1) & mask
            }
        }

        mutating func insert(_ key: UInt64) -> Bool {
            if (count + 1) * 4 > slots.count * 3 { grow() }
            let mask = slots.count - 1
            var index = Int(truncatingIfNeeded: key) & mask
            while true {
                let slot = slots[index]
                if slot == key { return false }
                if slot == 0 {
                    slots[index] = key
                    count += 1
                    return true
                }
                index = (index + 1) & mask
            }
        }

        private mutating func grow() {
            let old = slots
            slots = [UInt64](repeating: 0, count: max(16, old.count * 2))
            let mask = slots.count - 1
            for key in old where key != 0 {
                var index = Int(truncatingIfNeeded: key) & mask
                while slots[index] != 0 { index = (index + 1) & mask }
                slots[index] = key
            }
        }
    }
}

/// Why an event-id shard from a snapshot is unusable.
package struct EventIDSetError: Error, CustomStringConvertible {
    package var description: String
    init(_ description: String) { self.description = description }
}
