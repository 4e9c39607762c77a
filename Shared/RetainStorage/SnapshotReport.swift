/// What ``DurableStore/writeSnapshot(coveringSequence:_:)`` wrote and removed.
public struct SnapshotReport: Sendable, CustomStringConvertible {
    /// The snapshot file, in place and durable.
    public var file: String
    /// The sequence it covers.
    public var coveredSequence: UInt64
    /// Records written.
    public var recordCount: UInt64
    /// Bytes of the uncompressed record stream (length prefixes included).
    public var uncompressedBytes: UInt64
    /// Bytes of the file (header included).
    public var fileBytes: UInt64
    /// Log segments removed because the previous snapshot covers them.
    public var removedSegments: [String]
    /// Older snapshots removed (the newest two are kept).
    public var removedSnapshots: [String]
    /// Wall time from start to the snapshot being durable and the old files removed.
    public var duration: Duration

    /// Uncompressed bytes per file byte.
    public var compressionRatio: Double {
        fileBytes == 0 ? 0 : Double(uncompressedBytes) / Double(fileBytes)
    }

    public var description: String {
        "snapshot \(file): \(recordCount) records through sequence \(coveredSequence), "
            + "\(uncompressedBytes) -> \(fileBytes) bytes, in \(duration); "
            + "removed \(removedSegments.count) segment(s) and \(removedSnapshots.count) snapshot(s)"
    }
}
