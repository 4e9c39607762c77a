/// Growth's users by id. The records sit in one array in the order the users appeared, so the
/// large ``UserGrowth`` values are not spread over a dictionary's mostly empty buckets, and an
/// open-addressing table of 32-bit positions in that array finds a user by id: 4 bytes a bucket
/// where a `[String: Int32]` holds the id again (20 bytes a bucket; about 34 MB less at a
/// million users). Users are removed only when they move to another shard (the last user takes
/// the removed one's place).
struct UserTable: Sendable, Sequence {
    /// The users' ids, in the order they appeared.
    private var ids: [String] = []
    /// The users' records, at the same positions as their ids (apart from the ids, so that a
    /// probe compares an id without copying a record).
    private var records: [UserGrowth] = []
    /// Linear-probing hash table: positions in `ids` and `records` by the hash of their user id, `empty`
    /// where there is none. Its size is a power of two, at most three quarters full.
    private var slots: [Int32] = []
    private static let empty: Int32 = -1

    init() {}

    /// How many users there are.
    var count: Int { ids.count }

    /// Makes room for `capacity` users.
    mutating func reserveCapacity(_ capacity: Int) {
        ids.reserveCapacity(capacity)
        records.reserveCapacity(capacity)
        if Self.slotCount(for: capacity) > slots.count { rehash(Self.slotCount(for: capacity)) }
    }

    /// The user's record, if there is one.
    subscript(userID: String) -> UserGrowth? {
        find(userID).map { records[Int(slots[$0])] }
    }

    /// Takes the user's record out to change it in place (the table keeps an empty record
    /// until ``put(_:_:)`` sets it back); a new user's record when there is none.
    mutating func take(_ userID: String) -> UserGrowth {
        guard let slot = find(userID) else { return UserGrowth() }
        var user = UserGrowth()
        swap(&user, &records[Int(slots[slot])])
        return user
    }

    /// Calls `body` with the user's record where it lies (no copy of its lists), or returns nil
    /// when there is none.
    func withUser<Result>(_ userID: String, _ body: (borrowing UserGrowth) throws -> Result) rethrows -> Result? {
        guard let slot = find(userID) else { return nil }
        return try body(records[Int(slots[slot])])
    }

    /// Sets the user's record, adding the user if new.
    mutating func put(_ userID: String, _ user: consuming UserGrowth) {
        if let slot = find(userID) {
            records[Int(slots[slot])] = user
            return
        }
        precondition(ids.count < Int(Int32.max), "too many users")
        if Self.slotCount(for: ids.count + 1) > slots.count { rehash(Self.slotCount(for: ids.count + 1)) }
        slots[freeSlot(userID)] = Int32(ids.count)
        ids.append(userID)
        records.append(user)
    }

    /// Adds a user known to be new without looking for it and leaves it out of the index: a
    /// restore appends every user of a snapshot so (a snapshot's users are distinct: the table
    /// they were written from kept them so, and the snapshot's checksums guard them since),
    /// builds the index apart (``index(of:)``, on another thread while it reads on) and sets
    /// it with ``setIndex(_:)``. Until then the table finds no one.
    mutating func appendUnindexed(new userID: String, _ user: consuming UserGrowth) {
        precondition(ids.count < Int(Int32.max), "too many users")
        ids.append(userID)
        records.append(user)
    }

    /// The users' ids, in the order they appeared (what ``index(of:)`` indexes).
    var userIDs: [String] { ids }

    /// Sets the index that ``index(of:)`` built of this table's ids.
    mutating func setIndex(_ index: [Int32]) {
        precondition(index.count == Self.slotCount(for: ids.count), "an index of \(index.count) slots for \(ids.count) users")
        slots = index
    }

    /// Removes the user; returns its record, nil when there was none.
    @discardableResult
    mutating func remove(_ userID: String) -> UserGrowth? {
        guard let slot = find(userID) else { return nil }
        let position = Int(slots[slot])
        deleteSlot(slot)
        let removed = records[position]
        let lastID = ids.removeLast()
        let lastRecord = records.removeLast()
        if position < ids.count {
            ids[position] = lastID
            records[position] = lastRecord
            slots[find(lastID, position: Int32(ids.count))!] = Int32(position)
        }
        return removed
    }

    /// Calls `body` with every user where it lies (no copy of its record), in the order they
    /// appeared.
    func forEachUser(_ body: (_ userID: String, _ user: borrowing UserGrowth) throws -> Void) rethrows {
        for position in ids.indices { try body(ids[position], records[position]) }
    }

    func makeIterator() -> Iterator {
        Iterator(table: self)
    }

    /// The users with their ids, in the order they appeared.
    struct Iterator: IteratorProtocol {
        let table: UserTable
        var position = 0

        mutating func next() -> (userID: String, user: UserGrowth)? {
            guard position < table.ids.count else { return nil }
            defer { position += 1 }
            return (table.ids[position], table.records[position])
        }
    }

    // MARK: The hash table

    /// Slots for `count` users: a power of two at least 4/3 of it.
    private static func slotCount(for count: Int) -> Int {
        var slots = 8
        while slots * 3 < count * 4 { slots *= 2 }
        return slots
    }

    private func home(_ userID: String) -> Int {
        userID.hashValue & (slots.count - 1)
    }

    /// The slot holding `userID` (or, with `position`, the slot holding that position of it).
    private func find(_ userID: String, position: Int32? = nil) -> Int? {
        guard !slots.isEmpty else { return nil }
        let mask = slots.count - 1
        var slot = home(userID)
        while true {
            let held = slots[slot]
            if held == Self.empty { return nil }
            if let position {
                if held == position { return slot }
            } else if ids[Int(held)] == userID {
                return slot
            }
            slot = (slot + 1) & mask
        }
    }

    /// The first empty slot on `userID`'s probe sequence.
    private func freeSlot(_ userID: String) -> Int {
        let mask = slots.count - 1
        var slot = home(userID)
        while slots[slot] != Self.empty { slot = (slot + 1) & mask }
        return slot
    }

    /// Empties `slot`, moving later entries of the same cluster back so that every entry stays
    /// reachable from its home slot (backward-shift deletion).
    private mutating func deleteSlot(_ slot: Int) {
        let mask = slots.count - 1
        var hole = slot
        var next = (slot + 1) & mask
        while slots[next] != Self.empty {
            let wanted = home(ids[Int(slots[next])])
            // The entry at `next` may move into the hole when its home is not in (hole, next].
            let distanceToHole = (hole - wanted) & mask
            let distanceToNext = (next - wanted) & mask
            if distanceToHole < distanceToNext {
                slots[hole] = slots[next]
                hole = next
            }
            next = (next + 1) & mask
        }
        slots[hole] = Self.empty
    }

    private mutating func rehash(_ count: Int) {
        slots = Self.index(of: ids, slotCount: count)
    }

    /// The index of a table holding `ids`: ``slotCount(for:)`` slots.
    static func index(of ids: [String]) -> [Int32] {
        index(of: ids, slotCount: slotCount(for: ids.count))
    }

    /// Slots of `slotCount` (a power of two) indexing `ids`, each at the first empty slot from
    /// its home. Inserting the ids in their order would touch the slots at random, a cache and
    /// TLB miss each (about 250 ns per user at a million, the largest cost of a restore); so
    /// the ids are first grouped by the block of ``blockSlots`` slots their home lies in (a
    /// counting sort of (home, position) pairs), then inserted block after block: the writes
    /// sweep the slots front to back. Linear probing is correct in any insertion order; only
    /// where in its probe run an entry sits differs.
    static func index(of ids: [String], slotCount: Int) -> [Int32] {
        var slots = [Int32](repeating: empty, count: slotCount)
        guard !ids.isEmpty else { return slots }
        let mask = slotCount - 1
        let blockShift = Swift.min(blockSlots.trailingZeroBitCount, slotCount.trailingZeroBitCount)
        let blockCount = slotCount >> blockShift
        var homes = [Int](repeating: 0, count: ids.count)
        var starts = [Int](repeating: 0, count: blockCount + 1)
        for position in ids.indices {
            let home = ids[position].hashValue & mask
            homes[position] = home
            starts[(home >> blockShift) + 1] += 1
        }
        for block in 0..<blockCount { starts[block + 1] += starts[block] }
        // (home, position) pairs grouped by block.
        var grouped = [(home: Int, position: Int32)](repeating: (0, 0), count: ids.count)
        for position in ids.indices {
            let home = homes[position]
            let block = home >> blockShift
            grouped[starts[block]] = (home, Int32(position))
            starts[block] += 1
        }
        slots.withUnsafeMutableBufferPointer { slots in
            for (home, position) in grouped {
                var slot = home
                while slots[slot] != empty { slot = (slot + 1) & mask }
                slots[slot] = position
            }
        }
        return slots
    }

    /// Slots per block of ``index(of:slotCount:)``'s grouping: 1024 (4 KiB of slots).
    private static let blockSlots = 1024
}
