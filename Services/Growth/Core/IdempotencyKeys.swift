import RetainProto
import RetainState

/// A user's remembered idempotency keys (awards and claims) with their first answers, packed
/// one after another in a single byte buffer: one allocation per user instead of an array of
/// records plus one array per answer (at a million users with one key each that is about
/// 110 bytes a user less). Most users hold one or a few keys, so the buffer is searched in
/// order; past ``indexThreshold`` keys a dictionary from key to offset is kept beside it.
///
/// One record, lengths and numbers little-endian:
///
/// ```
/// +-----------+-----------+-------------+----------------+-----------+--------------+
/// | keyLength | key UTF-8 | fingerprint | recorded_at_ms | ansLength | answer bytes |
/// |  UInt32   |  keyLen   |   UInt64    |     Int64      |  UInt32   |  ansLength   |
/// +-----------+-----------+-------------+----------------+-----------+--------------+
/// ```
///
/// The snapshot form is unchanged: ``records`` unpacks them into
/// ``Retain_V1_GrowthIdempotencyRecord`` values.
struct IdempotencyKeys: Sendable {
    /// The packed records, in the order they were remembered.
    private var storage: [UInt8] = []
    /// Offsets in `storage` by key; nil while there are at most `indexThreshold` records.
    private var index: [String: Int]?

    /// Up to this many records are searched linearly. 8.
    static let indexThreshold = 8
    /// Bytes of a record besides its key and answer.
    private static let fixedBytes = 4 + 8 + 8 + 4

    init() {}

    /// The keys of snapshot records; a repeated key keeps its last record.
    init(_ records: [Retain_V1_GrowthIdempotencyRecord]) {
        var kept = records
        if records.count > 1 {
            var last: [String: Int] = [:]
            for (position, record) in records.enumerated() { last[record.key] = position }
            kept = records.enumerated().filter { last[$0.element.key] == $0.offset }.map(\.element)
        }
        storage.reserveCapacity(kept.reduce(0) { $0 + Self.fixedBytes + $1.key.utf8.count + $1.answer.count })
        for record in kept { append(record) }
        rebuildIndex()
    }

    /// The keys of packed records as ``withPackedBytes(_:)`` gives them (a snapshot of format
    /// 2), each record's lengths checked against the bytes.
    init(packed: UnsafeRawBufferPointer) throws(PackedError) {
        var offset = 0
        while offset < packed.count {
            guard offset + 4 <= packed.count else { throw PackedError(offset: offset) }
            let keyLength = Int(UInt32(littleEndian: packed.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
            let answerAt = offset + 4 + keyLength + 16
            guard answerAt + 4 <= packed.count else { throw PackedError(offset: offset) }
            let answerLength = Int(UInt32(littleEndian: packed.loadUnaligned(fromByteOffset: answerAt, as: UInt32.self)))
            guard answerAt + 4 + answerLength <= packed.count else { throw PackedError(offset: answerAt) }
            offset = answerAt + 4 + answerLength
        }
        if !packed.isEmpty { storage = [UInt8](packed) }
        rebuildIndex()
    }

    /// Calls `body` with the packed records, in the order they were remembered.
    func withPackedBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try storage.withUnsafeBytes(body)
    }

    /// How many keys are remembered.
    var count: Int {
        if let index { return index.count }
        var count = 0
        forEachRecord { _, _ in count += 1 }
        return count
    }

    /// The records, in the order they were remembered (the snapshot form).
    var records: [Retain_V1_GrowthIdempotencyRecord] {
        var records: [Retain_V1_GrowthIdempotencyRecord] = []
        forEachRecord { offset, _ in records.append(record(at: offset)) }
        return records
    }

    /// The record of `key`, if it is remembered.
    subscript(key: String) -> Retain_V1_GrowthIdempotencyRecord? {
        offset(of: key).map(record(at:))
    }

    /// Whether `key` is remembered.
    func contains(_ key: String) -> Bool {
        offset(of: key) != nil
    }

    /// Remembers a key that is not remembered yet.
    mutating func insert(_ record: Retain_V1_GrowthIdempotencyRecord) {
        let needed = storage.count + Self.fixedBytes + record.key.utf8.count + record.answer.count
        if needed > storage.capacity {
            // Exactly enough for the first key (most users keep one), then half as much again.
            storage.reserveCapacity(storage.isEmpty ? needed : max(needed, storage.count + storage.count / 2))
        }
        let offset = storage.count
        append(record)
        if index != nil {
            index?[record.key] = offset
        } else if count > Self.indexThreshold {
            rebuildIndex()
        }
    }

    /// Forgets the records recorded before `cutoff`.
    mutating func removeRecorded(before cutoff: Int64) {
        var ranges: [Range<Int>] = []
        forEachRecord { offset, end in
            if recordedAtMs(at: offset) >= cutoff { ranges.append(offset..<end) }
        }
        var kept: [UInt8] = []
        kept.reserveCapacity(ranges.reduce(0) { $0 + $1.count })
        for range in ranges { kept.append(contentsOf: storage[range]) }
        storage = kept
        rebuildIndex()
    }

    // MARK: Packing

    private mutating func append(_ record: Retain_V1_GrowthIdempotencyRecord) {
        var key = record.key
        key.withUTF8 { bytes in
            appendInteger(UInt32(bytes.count))
            storage.append(contentsOf: bytes)
        }
        appendInteger(record.fingerprint)
        appendInteger(UInt64(bitPattern: record.recordedAtMs))
        appendInteger(UInt32(record.answer.count))
        storage.append(contentsOf: record.answer)
    }

    private mutating func appendInteger<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { storage.append(contentsOf: $0) }
    }

    private func integer<T: FixedWidthInteger>(_: T.Type, at offset: Int) -> T {
        storage.withUnsafeBytes { T(littleEndian: $0.loadUnaligned(fromByteOffset: offset, as: T.self)) }
    }

    /// Calls `body` with the start and end offsets of every record, in order.
    private func forEachRecord(_ body: (_ offset: Int, _ end: Int) -> Void) {
        var offset = 0
        while offset < storage.count {
            let keyLength = Int(integer(UInt32.self, at: offset))
            let answerAt = offset + 4 + keyLength + 16
            let end = answerAt + 4 + Int(integer(UInt32.self, at: answerAt))
            body(offset, end)
            offset = end
        }
    }

    private func recordedAtMs(at offset: Int) -> Int64 {
        Int64(bitPattern: integer(UInt64.self, at: offset + 4 + Int(integer(UInt32.self, at: offset)) + 8))
    }

    private func record(at offset: Int) -> Retain_V1_GrowthIdempotencyRecord {
        let keyLength = Int(integer(UInt32.self, at: offset))
        let keyStart = offset + 4
        let numbers = keyStart + keyLength
        let answerLength = Int(integer(UInt32.self, at: numbers + 16))
        let answerStart = numbers + 20
        return Retain_V1_GrowthIdempotencyRecord(
            key: String(decoding: storage[keyStart..<numbers], as: UTF8.self),
            fingerprint: integer(UInt64.self, at: numbers),
            recordedAtMs: Int64(bitPattern: integer(UInt64.self, at: numbers + 8)),
            answer: Array(storage[answerStart..<answerStart + answerLength]))
    }

    private func offset(of key: String) -> Int? {
        if let index { return index[key] }
        var key = key
        return key.withUTF8 { wanted -> Int? in
            storage.withUnsafeBytes { bytes -> Int? in
                var offset = 0
                while offset < bytes.count {
                    let keyLength = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
                    let answerAt = offset + 4 + keyLength + 16
                    if keyLength == wanted.count,
                        UnsafeRawBufferPointer(rebasing: bytes[offset + 4..<offset + 4 + keyLength]).elementsEqual(wanted)
                    {
                        return offset
                    }
                    offset = answerAt + 4 + Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: answerAt, as: UInt32.self)))
                }
                return nil
            }
        }
    }

    private mutating func rebuildIndex() {
        var positions: [String: Int] = [:]
        var count = 0
        forEachRecord { _, _ in count += 1 }
        guard count > Self.indexThreshold else {
            index = nil
            return
        }
        positions.reserveCapacity(count)
        forEachRecord { offset, _ in
            let keyLength = Int(integer(UInt32.self, at: offset))
            positions[String(decoding: storage[offset + 4..<offset + 4 + keyLength], as: UTF8.self)] = offset
        }
        index = positions
    }
}
