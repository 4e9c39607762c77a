/// Hands back the records of the snapshot being recovered, in the order they were written.
///
/// Records are decompressed as they are asked for, never into one giant buffer. A record's bytes
/// are valid only until the next call to ``next()``: decode or copy them first.
public struct SnapshotReader {
    private let decoder: SnapshotDecoder

    init(decoder: SnapshotDecoder) {
        self.decoder = decoder
    }

    /// The snapshot holds the state after every record up to and including this sequence.
    public var coveredSequence: UInt64 { decoder.header.coveredSequence }

    /// How many records the snapshot holds.
    public var recordCount: UInt64 { decoder.header.recordCount }

    /// The snapshot file's path.
    public var file: String { decoder.path }

    /// The next record, or `nil` after the last one.
    ///
    /// - Throws: ``StorageError/corrupt(file:offset:reason:)`` if the stream is damaged.
    public mutating func next() throws -> UnsafeRawBufferPointer? {
        try decoder.next()
    }

    /// Calls `body` with every remaining record, in order.
    public mutating func forEach(_ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        while let record = try decoder.next() {
            try body(record)
        }
    }
}
