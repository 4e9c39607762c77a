import Logging
import Synchronization
import Glibc

extension DurableStore {
    /// Rebuilds the state: loads the newest snapshot, then replays every later log record in order.
    ///
    /// Must be called once, before the first append. Snapshot records are streamed to `snapshot`
    /// (never decompressed into one buffer); log records after the snapshot go to `replay` with
    /// their sequence. A record's bytes are valid only during the call that receives them.
    ///
    /// A torn record at the end of the last segment — a crash in the middle of an append, which
    /// was therefore never acknowledged — is cut off with a warning. A checksum failure anywhere
    /// else, a sequence gap, or a damaged snapshot throws ``StorageError/corrupt(file:offset:reason:)``
    /// and the service must not start: `retain-storage repair` fixes the directory, keeping a copy
    /// of what it drops. Leftover `.tmp` files of interrupted snapshots or rollovers are removed.
    ///
    /// - Parameters:
    ///   - snapshot: Called once, with a reader over the newest snapshot's records, if there is one.
    ///   - replay: Called for each log record after the snapshot, in sequence order.
    /// - Returns: What was loaded, replayed and cut.
    public func recover(
        snapshot: (inout SnapshotReader) throws -> Void,
        replay: (_ sequence: UInt64, _ payload: UnsafeRawBufferPointer) throws -> Void
    ) throws -> RecoveryReport {
        let started = ContinuousClock.now
        guard queue.beginRecovery() else {
            throw StorageError.invalidOperation("recover() may run only once, before any append")
        }
        var report = RecoveryReport()
        var listing = try dataDirectory.listing()
        for temporary in listing.temporaries {
            try dataDirectory.remove(temporary)
            report.removedTemporaryFiles.append(dataDirectory.file(temporary))
            logger.info(
                "Removed an unfinished file left by an interrupted write",
                metadata: ["file": "\(dataDirectory.file(temporary))"])
        }
        if !listing.temporaries.isEmpty {
            try dataDirectory.sync()
            listing.temporaries = []
        }

        var covered: UInt64 = 0
        if let newest = listing.snapshots.last {
            let decoder = try SnapshotDecoder(path: dataDirectory.file(newest.name), maxRecordBytes: LogRecordFrame.formatMaximumPayload)
            guard decoder.header.coveredSequence == newest.coveredSequence else {
                throw StorageError.corrupt(
                    file: decoder.path, offset: 16,
                    reason: "header covers sequence \(decoder.header.coveredSequence), the name says \(newest.coveredSequence)")
            }
            var reader = SnapshotReader(decoder: decoder)
            try snapshot(&reader)
            try decoder.finish()
            covered = decoder.header.coveredSequence
            report.snapshotFile = decoder.path
            report.snapshotSequence = covered
            report.snapshotRecords = decoder.header.recordCount
        }

        let scanner = LogScanner(directory: dataDirectory, segments: listing.segments)
        let outcome = try scanner.scan(after: covered, visit: replay)
        report.replayedRecords = outcome.replayedRecords
        report.segmentsRead = outcome.segmentsRead.count
        if let damage = outcome.damage {
            guard damage.kind == .tornTail else {
                throw StorageError.corrupt(file: damage.file, offset: damage.offset, reason: damage.reason)
            }
            let file = try PosixFile(path: damage.file, flags: O_WRONLY)
            try file.truncate(to: damage.offset)
            try file.syncData()
            report.truncatedTail = RecoveryReport.TruncatedTail(
                file: damage.file, offset: damage.offset, bytes: damage.bytesAfter, reason: damage.reason)
            logger.warning(
                "Cut a torn record off the end of the log (a crash interrupted an append; it was never acknowledged)",
                metadata: [
                    "file": "\(damage.file)", "offset": "\(damage.offset)", "bytes": "\(damage.bytesAfter)",
                    "reason": "\(damage.reason)",
                ])
        }

        let lastSequence = outcome.lastSequence
        let writer: SegmentWriter
        if let tail = outcome.tail, tail.nextSequence == lastSequence + 1 {
            writer = try SegmentWriter.continuing(
                directory: dataDirectory, path: tail.file, firstSequence: tail.firstSequence, size: tail.validEnd,
                segmentBytes: configuration.segmentBytes, faults: configuration.faultInjection)
        } else {
            writer = try SegmentWriter.creating(
                directory: dataDirectory, firstSequence: lastSequence + 1,
                segmentBytes: configuration.segmentBytes, faults: configuration.faultInjection)
        }
        snapshotState.withLock { state in
            state.coveredSequence = covered
            state.takenAt = monotonicNanoseconds()
        }
        queue.start(lastSequence: lastSequence)
        let groupCommitter = GroupCommitter(
            queue: queue, writer: writer, durability: configuration.durability, logger: logger)
        let thread = try CommitterThread { groupCommitter.run() }
        committer.withLock { $0 = thread }

        report.lastSequence = lastSequence
        report.duration = ContinuousClock.now - started
        logger.info(
            "Recovered storage",
            metadata: [
                "directory": "\(directory)", "lastSequence": "\(lastSequence)",
                "snapshotRecords": "\(report.snapshotRecords)", "replayedRecords": "\(report.replayedRecords)",
                "duration": "\(report.duration)",
            ])
        return report
    }
}
