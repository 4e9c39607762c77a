/// What a data directory holds, as found by ``StorageInspector/inspect(directory:)``.
public struct DirectoryInspection: Sendable, CustomStringConvertible {
    /// The state of one file.
    public enum FileStatus: Sendable, Equatable, CustomStringConvertible {
        /// Every byte checked out.
        case ok
        /// The file ends in an interrupted append that recovery will cut off.
        case tornTail(offset: Int64, bytes: Int64, reason: String)
        /// The file is damaged at `offset`; recovery refuses it until repaired.
        case corrupt(offset: Int64, reason: String)

        public var description: String {
            switch self {
            case .ok: "ok"
            case .tornTail(let offset, let bytes, _): "torn tail at offset \(offset) (\(bytes) bytes)"
            case .corrupt(let offset, let reason): "CORRUPT at offset \(offset): \(reason)"
            }
        }
    }

    /// One snapshot file.
    public struct Snapshot: Sendable {
        /// Its path.
        public var file: String
        /// The sequence its name says it covers.
        public var coveredSequence: UInt64
        /// Records it holds (from its header; 0 if the header is unreadable).
        public var recordCount: UInt64
        /// Its size on disk.
        public var fileBytes: Int64
        /// Bytes of its uncompressed record stream.
        public var uncompressedBytes: UInt64
        /// Whether it is intact.
        public var status: FileStatus

        /// Uncompressed bytes per file byte.
        public var compressionRatio: Double {
            fileBytes == 0 ? 0 : Double(uncompressedBytes) / Double(fileBytes)
        }
    }

    /// One log segment file.
    public struct Segment: Sendable {
        /// Its path.
        public var file: String
        /// The sequence of its first record, from its name.
        public var firstSequence: UInt64
        /// The sequence of its last valid record (`nil` if it holds none).
        public var lastSequence: UInt64?
        /// Valid records it holds.
        public var recordCount: UInt64
        /// Its size on disk.
        public var fileBytes: Int64
        /// Whether it is intact.
        public var status: FileStatus
    }

    /// The data directory.
    public var directory: String
    /// The pid of the process holding the directory's lock, if one does.
    public var lockHolder: Int32?
    /// Snapshots, oldest first.
    public var snapshots: [Snapshot] = []
    /// Log segments, oldest first.
    public var segments: [Segment] = []
    /// Unfinished `.tmp` files (recovery removes them).
    public var temporaryFiles: [String] = []
    /// Quarantine directories left by repair.
    public var quarantines: [String] = []
    /// What recovery would do: `nil` if it would succeed, else why it would refuse to start.
    public var recoveryProblem: String?
    /// The last sequence recovery would reach (when it would succeed).
    public var recoverableSequence: UInt64 = 0

    /// The oldest sequence in the log.
    public var firstLoggedSequence: UInt64? {
        segments.first(where: { $0.recordCount > 0 })?.firstSequence
    }

    /// The newest sequence in the log.
    public var lastLoggedSequence: UInt64? {
        segments.last(where: { $0.lastSequence != nil })?.lastSequence
    }

    public var description: String {
        var lines = ["data directory \(directory)"]
        lines.append("  lock: " + (lockHolder.map { "held by pid \($0)" } ?? "free"))
        lines.append("  snapshots: \(snapshots.count)")
        for snapshot in snapshots {
            lines.append(
                "    \(baseName(snapshot.file))  covers \(snapshot.coveredSequence)  records \(snapshot.recordCount)"
                    + "  \(formatBytes(snapshot.fileBytes)) (uncompressed \(formatBytes(Int64(snapshot.uncompressedBytes))),"
                    + " ratio \(formatRatio(snapshot.compressionRatio)))  \(snapshot.status)")
        }
        lines.append("  log segments: \(segments.count), \(formatBytes(segments.reduce(0) { $0 + $1.fileBytes }))")
        for segment in segments {
            let range = segment.lastSequence.map { "\(segment.firstSequence)...\($0)" } ?? "empty (next \(segment.firstSequence))"
            lines.append(
                "    \(baseName(segment.file))  sequences \(range)  records \(segment.recordCount)"
                    + "  \(formatBytes(segment.fileBytes))  \(segment.status)")
        }
        if let first = firstLoggedSequence, let last = lastLoggedSequence {
            lines.append("  log sequences: \(first)...\(last)")
        }
        for file in temporaryFiles { lines.append("  unfinished temporary file (removed at recovery): \(baseName(file))") }
        for quarantine in quarantines { lines.append("  quarantine from an earlier repair: \(baseName(quarantine))") }
        if let recoveryProblem {
            lines.append("  recovery: WOULD REFUSE TO START: \(recoveryProblem)")
            lines.append("  fix with: retain-storage repair \(directory)")
        } else {
            lines.append("  recovery: ok, through sequence \(recoverableSequence)")
        }
        return lines.joined(separator: "\n")
    }
}
