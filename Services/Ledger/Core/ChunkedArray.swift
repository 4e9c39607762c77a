import CPrefetch

/// An append-mostly array of value semantics stored in fixed-size chunks. Elements are read and
/// changed in place through addressors (no copy of the element), and a copy of the array (a
/// snapshot) followed by writes copies one chunk at a time, not the whole array at once.
struct ChunkedArray<Element>: RandomAccessCollection {
    private static var chunkShift: Int { 12 }
    private static var chunkSize: Int { 1 << chunkShift }
    private var chunks: [ChunkStorage<Element>] = []
    private(set) var count = 0

    init() {}

    var startIndex: Int { 0 }
    var endIndex: Int { count }

    subscript(index: Int) -> Element {
        unsafeAddress {
            precondition(index >= 0 && index < count, "index \(index) out of range")
            return UnsafePointer(chunks[index >> Self.chunkShift].base + (index & (Self.chunkSize - 1)))
        }
        unsafeMutableAddress {
            precondition(index >= 0 && index < count, "index \(index) out of range")
            let chunk = index >> Self.chunkShift
            if !isKnownUniquelyReferenced(&chunks[chunk]) { chunks[chunk] = chunks[chunk].copy() }
            return chunks[chunk].base + (index & (Self.chunkSize - 1))
        }
    }

    subscript(index: Int32) -> Element {
        unsafeAddress {
            let index = Int(index)
            precondition(index >= 0 && index < count, "index \(index) out of range")
            return UnsafePointer(chunks[index >> Self.chunkShift].base + (index & (Self.chunkSize - 1)))
        }
        unsafeMutableAddress {
            let index = Int(index)
            precondition(index >= 0 && index < count, "index \(index) out of range")
            let chunk = index >> Self.chunkShift
            if !isKnownUniquelyReferenced(&chunks[chunk]) { chunks[chunk] = chunks[chunk].copy() }
            return chunks[chunk].base + (index & (Self.chunkSize - 1))
        }
    }

    /// Where element `index` lies, if it exists: for prefetching, which reads raw words of it
    /// (no retain of what they refer to).
    @inline(__always)
    func address(_ index: Int32) -> UnsafeRawPointer? {
        let index = Int(index)
        guard index >= 0, index < count else { return nil }
        return UnsafeRawPointer(chunks[index >> Self.chunkShift].base + (index & (Self.chunkSize - 1)))
    }

    /// Asks the cache for every cache line of element `index` (to be read soon).
    @inline(__always)
    func prefetch(_ index: Int32) {
        guard let address = address(index) else { return }
        let size = MemoryLayout<Element>.size
        for offset in stride(from: 0, to: size, by: 64) { cprefetch_read(address + offset) }
        cprefetch_read(address + (size - 1))
    }

    mutating func append(_ element: Element) {
        if count & (Self.chunkSize - 1) == 0 {
            chunks.append(ChunkStorage(capacity: Self.chunkSize))
        }
        let chunk = chunks.count - 1
        if !isKnownUniquelyReferenced(&chunks[chunk]) { chunks[chunk] = chunks[chunk].copy() }
        chunks[chunk].append(element)
        count += 1
    }

    /// Removes every element.
    mutating func removeAll() {
        chunks = []
        count = 0
    }

    /// Removes the last element (used to undo accounts opened by a failed linked chain).
    mutating func removeLast() {
        let chunk = chunks.count - 1
        if !isKnownUniquelyReferenced(&chunks[chunk]) { chunks[chunk] = chunks[chunk].copy() }
        chunks[chunk].removeLast()
        if chunks[chunk].count == 0 { chunks.removeLast() }
        count -= 1
    }
}

extension ChunkedArray: @unchecked Sendable where Element: Sendable {}

/// One chunk's memory: owned by one ``ChunkedArray`` at a time, copied before a shared one is
/// written (so the array keeps value semantics).
final class ChunkStorage<Element> {
    let base: UnsafeMutablePointer<Element>
    let capacity: Int
    private(set) var count = 0

    init(capacity: Int) {
        self.capacity = capacity
        base = .allocate(capacity: capacity)
    }

    func copy() -> ChunkStorage {
        let other = ChunkStorage(capacity: capacity)
        other.base.initialize(from: base, count: count)
        other.count = count
        return other
    }

    func append(_ element: Element) {
        precondition(count < capacity)
        (base + count).initialize(to: element)
        count += 1
    }

    func removeLast() {
        count -= 1
        (base + count).deinitialize(count: 1)
    }

    deinit {
        base.deinitialize(count: count)
        base.deallocate()
    }
}

/// Maps strings (transfer and account ids) to indexes, keyed by a 64-bit hash of the string so
/// that a probe compares integers; the caller confirms a hit against the string it stores. The
/// rare second string with the same hash goes to an overflow dictionary. The hashes live in
/// open-addressing tables (``HashSlots``), split in shards so that a copy (a snapshot) followed
/// by writes copies one shard at a time.
struct StringIndex: Sendable {
    private var shards = [HashSlots](repeating: HashSlots(), count: 16)
    private var overflow: [String: Int32] = [:]
    private(set) var count = 0

    init() {}

    /// A 64-bit hash of the string's UTF-8 bytes (FNV-1a, then a SplitMix64 finalizer).
    @inline(__always)
    static func hash(_ key: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        var key = key
        key.withUTF8 { bytes in
            for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        }
        hash = (hash ^ (hash >> 30)) &* 0xBF58_476D_1CE4_E5B9
        hash = (hash ^ (hash >> 27)) &* 0x94D0_49BB_1331_11EB
        return hash ^ (hash >> 31)
    }

    /// The index stored for `key`; `keyOf` gives the string an index belongs to.
    @inline(__always)
    func find(_ key: String, keyOf: (Int32) -> String) -> Int32? {
        find(key, hash: Self.hash(key), keyOf: keyOf)
    }

    /// The index stored for `key`, whose ``hash(_:)`` is `hash`.
    @inline(__always)
    func find(_ key: String, hash: UInt64, keyOf: (Int32) -> String) -> Int32? {
        if let value = shards[Int(hash >> 60)].find(hash), keyOf(value) == key { return value }
        return overflow.isEmpty ? nil : overflow[key]
    }

    /// Asks the cache for the slot a lookup of `hash` reads first.
    @inline(__always)
    func prefetch(hash: UInt64) { shards[Int(hash >> 60)].prefetch(hash) }

    /// The index stored under `hash`, unconfirmed (another key may share the hash): for
    /// prefetching what a lookup will read, never for answers.
    @inline(__always)
    func candidate(hash: UInt64) -> Int32? { shards[Int(hash >> 60)].find(hash) }

    /// Stores `value` for `key` (which must not be stored yet).
    mutating func insert(_ key: String, _ value: Int32) {
        insert(key, hash: Self.hash(key), value)
    }

    /// Stores `value` for `key`, whose ``hash(_:)`` is `hash` (and which must not be stored yet).
    @inline(__always)
    mutating func insert(_ key: String, hash: UInt64, _ value: Int32) {
        if !shards[Int(hash >> 60)].insert(hash, value) { overflow[key] = value }
        count += 1
    }

    /// Removes `key`, stored with `value`.
    mutating func remove(_ key: String, _ value: Int32) {
        let hash = Self.hash(key)
        let shard = Int(hash >> 60)
        if shards[shard].find(hash) == value {
            shards[shard].remove(hash)
        } else {
            overflow[key] = nil
        }
        count -= 1
    }
}

/// A `String`-keyed dictionary split into shards, so that a copy followed by writes copies one
/// shard at a time.
struct ShardedDictionary<Value> {
    private var shards: [[String: Value]] = Array(repeating: [:], count: 16)
    private(set) var count = 0

    init() {}

    @inline(__always)
    private static func shard(_ key: String) -> Int { Int(StringIndex.hash(key) >> 60) }

    subscript(key: String) -> Value? {
        shards[Self.shard(key)][key]
    }

    /// Removes `key`.
    mutating func remove(_ key: String) {
        if shards[Self.shard(key)].removeValue(forKey: key) != nil { count -= 1 }
    }

    /// Changes the value in place, inserting `value` first when missing.
    @discardableResult
    mutating func modify<R>(_ key: String, default value: @autoclosure () -> Value, _ body: (inout Value) -> R) -> R {
        let shard = Self.shard(key)
        if shards[shard][key] == nil { count += 1 }
        return body(&shards[shard][key, default: value()])
    }
}

extension ShardedDictionary: Sendable where Value: Sendable {}
