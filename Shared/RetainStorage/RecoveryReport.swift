/// What ``DurableStore/recover(snapshot:replay:)`` loaded, replayed and repaired.
public struct RecoveryReport: Sendable, CustomStringConvertible {
    /// A torn append cut off the end of the log.
    public struct TruncatedTail: Sendable, Equatable {
        /// The segment that was cut.
        public var file: String
        /// Its new length: the end of its last valid record.
        public var offset: Int64
        /// Bytes removed.
        public var bytes: Int64
        /// Why the bytes at `offset` were not a valid record.
        public var reason: String
    }

    /// The snapshot loaded, if any.
    public var snapshotFile: String?
    /// The sequence the snapshot covers (0 without a snapshot).
    public var snapshotSequence: UInt64 = 0
    /// Records read from the snapshot.
    public var snapshotRecords: UInt64 = 0
    /// Log records replayed after the snapshot.
    public var replayedRecords: UInt64 = 0
    /// Log segments read.
    public var segmentsRead: Int = 0
    /// The last recovered sequence; the next append gets this plus one.
    public var lastSequence: UInt64 = 0
    /// The torn tail that was cut off, if there was one.
    public var truncatedTail: TruncatedTail?
    /// Unfinished temporary files (from a crash mid-snapshot or mid-rollover) that were removed.
    public var removedTemporaryFiles: [String] = []
    /// Wall time spent recovering.
    public var duration: Duration = .zero

    /// An empty report (nothing loaded yet).
    package init() {}

    public var description: String {
        var text = "recovered through sequence \(lastSequence): "
        if let snapshotFile {
            text += "snapshot \(snapshotFile) (\(snapshotRecords) records, covers \(snapshotSequence)), "
        } else {
            text += "no snapshot, "
        }
        text += "\(replayedRecords) log records replayed from \(segmentsRead) segment(s) in \(duration)"
        if let truncatedTail {
            text += "; cut a torn tail of \(truncatedTail.bytes) bytes from \(truncatedTail.file) at offset \(truncatedTail.offset)"
        }
        return text
    }
}
