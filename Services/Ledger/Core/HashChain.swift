import Crypto

/// The journal's hash chain. Postings are grouped in blocks, one block per log entry that adds
/// postings; each block's hash covers the previous head and the canonical bytes of its
/// postings, in sequence order:
///
/// ```
/// head(0) = 32 zero bytes
/// head(b) = SHA-256( head(b-1) ‖ posting(first of b) ‖ ... ‖ posting(last of b) )
/// ```
///
/// Every log entry carries the head after it; replay recomputes it and refuses to start on a
/// mismatch. The chain keeps where each block ends (to recompute it from the records, at
/// restore and in Audit) and the head after every 1024th block (to say where it broke).
struct HashChain: Sendable {
    static let checkpointInterval = 1024
    static let genesis = [UInt8](repeating: 0, count: 32)

    /// Head after the last block.
    private(set) var head: [UInt8] = genesis
    /// Journal length after each block, in order.
    private(set) var blockEnds: [UInt64] = []
    /// Heads after blocks 1024, 2048, ...
    private(set) var checkpoints: [[UInt8]] = []

    init() {}

    init(head: [UInt8], blockEnds: [UInt64], checkpoints: [[UInt8]]) {
        self.head = head
        self.blockEnds = blockEnds
        self.checkpoints = checkpoints
    }

    /// The head after a block of postings.
    static func next(_ head: [UInt8], block: UnsafeRawBufferPointer) -> [UInt8] {
        var hasher = SHA256()
        head.withUnsafeBytes { hasher.update(bufferPointer: $0) }
        hasher.update(bufferPointer: block)
        return Array(hasher.finalize())
    }

    /// Seals a block of postings ending at `journalLength`.
    mutating func seal(_ block: PostingEncoder, journalLength: UInt64) {
        head = block.withBytes { Self.next(head, block: $0) }
        blockEnds.append(journalLength)
        if blockEnds.count % Self.checkpointInterval == 0 { checkpoints.append(head) }
    }
}

/// Writes postings in the chain's canonical form: integers little-endian, strings as a u32
/// length then their UTF-8 bytes, metadata sorted by key.
///
/// ```
/// u64 sequence | u8 record type | i64 committed_at_ms | str transfer_id
/// str debit_account_id | str credit_account_id | i64 amount | str asset | i32 kind
/// u8 flags (1 linked, 2 pending) | i64 timeout_ms | i64 expires_at_ms | str reason
/// u32 metadata count | (str key | str value)* | str pending_transfer_id | str lot_id
/// ```
struct PostingEncoder {
    /// Room for the bytes: the first `count` are written, the rest is zeroed spare room (kept
    /// across ``reset()``, so appending does not zero-fill what it is about to write).
    private var storage: [UInt8] = []
    /// Bytes written.
    private(set) var count = 0

    init(capacity: Int = 256) {
        storage = [UInt8](repeating: 0, count: capacity)
    }

    var isEmpty: Bool { count == 0 }

    /// The bytes written.
    var bytes: [UInt8] { Array(storage[..<count]) }

    /// Calls `body` with the bytes written.
    func withBytes<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        storage.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[..<count])) }
    }

    mutating func reset() { count = 0 }

    /// Appends `size` bytes that `write` fills through a cursor: one growth and one uniqueness
    /// check of the buffer for all the fields written (paid field by field, they were a tenth of
    /// a transfer's cost).
    @inline(__always)
    mutating func append(size: Int, _ write: (inout PostingCursor) -> Void) {
        let start = count
        if storage.count - start < size { grow(to: start + size) }
        count = start + size
        storage.withUnsafeMutableBytes { raw in
            var cursor = PostingCursor(pointer: raw.baseAddress! + start)
            write(&cursor)
            precondition(cursor.pointer == raw.baseAddress! + start + size, "a posting wrote other than the size it announced")
        }
    }

    /// Makes room for at least `needed` bytes, doubling (zero-filled once, when it grows).
    private mutating func grow(to needed: Int) {
        storage.append(contentsOf: repeatElement(0, count: max(needed, 2 * storage.count, 256) - storage.count))
    }

    /// Appends metadata: its count, then each key and value, sorted by key.
    mutating func metadata(_ value: [String: String]) {
        // Most postings have none: the count alone, without sorting an empty dictionary into a
        // new array.
        if value.isEmpty { return append(size: 4) { $0.integer(UInt32(0)) } }
        let sorted = value.sorted { $0.key < $1.key }
        let size = sorted.reduce(4) { $0 + PostingCursor.size($1.key) + PostingCursor.size($1.value) }
        append(size: size) { cursor in
            cursor.integer(UInt32(sorted.count))
            for (key, item) in sorted {
                cursor.string(key)
                cursor.string(item)
            }
        }
    }
}

/// Writes fields of a posting into room ``PostingEncoder/append(size:_:)`` made, in the chain's
/// canonical form (above): the one place integers and strings are encoded.
struct PostingCursor {
    var pointer: UnsafeMutableRawPointer

    /// The bytes ``string(_:)`` writes for `value`.
    @inline(__always)
    static func size(_ value: String) -> Int { 4 + value.utf8.count }

    @inline(__always)
    mutating func integer<T: FixedWidthInteger>(_ value: T) {
        pointer.storeBytes(of: value.littleEndian, as: T.self)
        pointer += MemoryLayout<T>.size
    }

    @inline(__always)
    mutating func string(_ value: String) {
        // A native string's bytes in place; only a string without contiguous UTF-8 is copied
        // (`withUTF8` on a copy would retain and release every string written).
        if value.utf8.withContiguousStorageIfAvailable({ bytes(UnsafeRawBufferPointer($0)) }) != nil { return }
        var value = value
        value.withUTF8 { bytes(UnsafeRawBufferPointer($0)) }
    }

    /// Writes `utf8` as a string: its length, then the bytes.
    @inline(__always)
    private mutating func bytes(_ utf8: UnsafeRawBufferPointer) {
        integer(UInt32(utf8.count))
        if let base = utf8.baseAddress { pointer.copyMemory(from: base, byteCount: utf8.count) }
        pointer += utf8.count
    }
}
