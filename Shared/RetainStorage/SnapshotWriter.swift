/// Streams the records of a snapshot while ``DurableStore/writeSnapshot(coveringSequence:_:)`` runs.
///
/// Each record is length-prefixed inside the compressed stream; the reader hands them back one
/// by one in the same order. Records are typically serialized messages, one per entity.
public struct SnapshotWriter {
    private let encoder: SnapshotEncoder

    init(encoder: SnapshotEncoder) {
        self.encoder = encoder
    }

    /// Records written so far.
    public var recordCount: UInt64 { encoder.recordCount }

    /// Adds one record (copied before returning).
    public mutating func append(_ record: UnsafeRawBufferPointer) throws {
        try encoder.append(record)
    }

    /// Adds one record (copied before returning).
    public mutating func append(_ record: [UInt8]) throws {
        try record.withUnsafeBytes { try encoder.append($0) }
    }
}
