import Glibc
import Logging
import Synchronization

extension DurableStore {
    /// Hands each written batch and each durable point to `taps` (nil stops it). Takes effect
    /// from the committer's next batch.
    public func setReplicationTaps(_ taps: ReplicationTaps?) {
        self.taps.set(taps)
    }

    /// Cuts every record after `sequence` off the log: a replica whose tail was never committed
    /// by the shard (a deposed leader's, or records from one) drops it before following the new
    /// leader. Runs between ``restartForRecovery()`` and ``recover(snapshot:replay:startWriting:)``.
    ///
    /// - Throws: ``StorageError/invalidOperation(_:)`` while the log is open for appends, or when
    ///   a snapshot covers records after `sequence` (the state must then be rebuilt from the
    ///   leader's snapshot instead); I/O errors.
    /// - Returns: How many records were cut.
    @discardableResult
    public func truncateLog(after sequence: UInt64) throws(StorageError) -> Int {
        guard committer.withLock({ $0 == nil }) else {
            throw .invalidOperation("truncateLog(after:) needs the log closed for appends (restartForRecovery first)")
        }
        let listing = try dataDirectory.listing()
        if let newest = listing.snapshots.last, newest.coveredSequence > sequence {
            throw .invalidOperation(
                "a snapshot covers records through \(newest.coveredSequence), after \(sequence): the log cannot be cut there")
        }
        var cut = 0
        for segment in listing.segments.reversed() {
            if segment.firstSequence > sequence {
                // Whole segment after the cut.
                let reader = try LogSegmentReader(path: dataDirectory.file(segment.name))
                while case .record = try reader.next() { cut += 1 }
                try dataDirectory.remove(segment.name)
                continue
            }
            let path = dataDirectory.file(segment.name)
            let reader = try LogSegmentReader(path: path)
            var cutAt: Int64?
            scan: while true {
                switch try reader.next() {
                case .record(let recordSequence, _, let offset):
                    if recordSequence > sequence {
                        if cutAt == nil { cutAt = offset }
                        cut += 1
                    }
                case .end, .damaged:
                    break scan
                }
            }
            if let cutAt {
                let file = try PosixFile(path: path, flags: O_WRONLY)
                try file.truncate(to: cutAt)
                try file.syncData()
                file.close()
            }
            break
        }
        try CleanShutdownMarker.remove(dataDirectory)
        try dataDirectory.sync()
        if cut > 0 {
            logger.warning(
                "Cut records the shard never committed off the log",
                metadata: ["after": "\(sequence)", "records": "\(cut)"])
        }
        return cut
    }

    /// A reader of this store's log from `sequence + 1` on, for a leader catching a replica up
    /// with records no longer held in memory. Nil when the log no longer holds `sequence + 1`
    /// (a snapshot replaced it).
    public func logCursor(after sequence: UInt64) throws(StorageError) -> LogCursor? {
        let listing = try dataDirectory.listing()
        guard let index = listing.segments.lastIndex(where: { $0.firstSequence <= sequence + 1 }) else { return nil }
        return LogCursor(directory: dataDirectory, next: sequence + 1, segment: listing.segments[index])
    }
}

/// Reads a live log's records in order from a given sequence, following it across segments and
/// as it grows; stops at what is written so far (a record being appended is read next time).
public final class LogCursor {
    private let directory: DataDirectory
    private var reader: LogSegmentReader?
    private var segment: DataDirectory.SegmentEntry
    private var resumeOffset: Int64?
    /// The sequence of the next record to return.
    public private(set) var next: UInt64

    init(directory: DataDirectory, next: UInt64, segment: DataDirectory.SegmentEntry) {
        self.directory = directory
        self.next = next
        self.segment = segment
    }

    /// Up to `maximumBytes` of log frames (at least one record when there is one) for sequences
    /// `next`, `next + 1`, ... but none after `through`, and how many records they hold. Empty
    /// when nothing more is written.
    public func readFrames(through: UInt64, maximumBytes: Int) throws(StorageError) -> (frames: [UInt8], count: Int) {
        var frames: [UInt8] = []
        var count = 0
        while next <= through, frames.count < maximumBytes {
            if reader == nil {
                let opened = try LogSegmentReader(path: directory.file(segment.name))
                if let resumeOffset { opened.seek(to: resumeOffset) }
                reader = opened
            }
            switch try reader!.next() {
            case .record(let sequence, let payload, _):
                guard sequence >= next else { continue }
                guard sequence == next else {
                    throw .corrupt(
                        file: directory.file(segment.name), offset: reader!.offset,
                        reason: "expected sequence \(next), found \(sequence)")
                }
                // The frame is the 16-byte header just before the payload, then the payload.
                let header = LogRecordFrame.headerSize
                frames.append(contentsOf: UnsafeRawBufferPointer(start: payload.baseAddress! - header, count: header + payload.count))
                count += 1
                next += 1
                resumeOffset = reader!.offset
            case .end, .damaged:
                // The end of what is written now: move to the next segment if it exists, else
                // reopen this one next time (it may have grown).
                reader = nil
                let listing = try directory.listing()
                if let following = listing.segments.first(where: { $0.firstSequence == next }),
                    following.firstSequence > segment.firstSequence
                {
                    segment = following
                    resumeOffset = nil
                    continue
                }
                return (frames, count)
            }
        }
        return (frames, count)
    }
}

extension DurableStore {
    /// The newest snapshot file and the sequence it covers, if there is one.
    public func newestSnapshot() throws(StorageError) -> (path: String, coveredSequence: UInt64)? {
        try dataDirectory.listing().snapshots.last.map { (dataDirectory.file($0.name), $0.coveredSequence) }
    }

    /// Where a replica downloads a leader's snapshot before ``replaceWithSnapshot(covering:)``
    /// (a `.tmp` file: recovery removes it if the download never finished).
    public var incomingSnapshotPath: String { dataDirectory.file("incoming-snapshot.tmp") }

    /// Replaces everything in the directory with the snapshot downloaded to
    /// ``incomingSnapshotPath``: a replica whose leader no longer has the log it needs starts over
    /// from the leader's snapshot. Runs between ``restartForRecovery()`` and a recovery.
    public func replaceWithSnapshot(covering sequence: UInt64) throws(StorageError) {
        guard committer.withLock({ $0 == nil }) else {
            throw .invalidOperation("replaceWithSnapshot(covering:) needs the log closed for appends")
        }
        let decoder = try SnapshotDecoder(path: incomingSnapshotPath, maxRecordBytes: LogRecordFrame.formatMaximumPayload)
        guard decoder.header.coveredSequence == sequence else {
            throw .corrupt(
                file: incomingSnapshotPath, offset: 16,
                reason: "covers sequence \(decoder.header.coveredSequence), the leader said \(sequence)")
        }
        let listing = try dataDirectory.listing()
        for segment in listing.segments { try dataDirectory.remove(segment.name) }
        for snapshot in listing.snapshots { try dataDirectory.remove(snapshot.name) }
        try CleanShutdownMarker.remove(dataDirectory)
        try dataDirectory.rename(incomingSnapshotPath, to: DataDirectory.snapshotName(coveredSequence: sequence))
        try dataDirectory.sync()
        snapshotState.withLock { $0.coveredSequence = 0 }
        logger.warning("Replaced the data directory with the leader's snapshot", metadata: ["coveredSequence": "\(sequence)"])
    }
}
