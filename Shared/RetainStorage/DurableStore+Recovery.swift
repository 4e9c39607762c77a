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
    ///   - startWriting: Whether to open the log for appends at the end (the default). Without
    ///     it, call ``startWriting()`` (again, until it succeeds) before the first append: a
    ///     service recovering in place after a full disk serves reads meanwhile.
    /// - Returns: What was loaded, replayed and cut.
    ///
    /// If the directory holds a clean-shutdown marker (written by ``close()`` after the last
    /// record was synced), any damage at the end of the log, or a last sequence other than the
    /// marker's, is not a torn append but damage after a clean stop: recovery refuses it as
    /// corruption instead of cutting it off.
    public func recover(
        snapshot: (inout SnapshotReader) throws -> Void,
        replay: (_ sequence: UInt64, _ payload: UnsafeRawBufferPointer) throws -> Void,
        startWriting: Bool = true
    ) throws -> RecoveryReport {
        let started = ContinuousClock.now
        guard queue.beginRecovery() else {
            throw StorageError.invalidOperation("recover() may run only once, before any append")
        }
        var report = RecoveryReport()
        let cleanStop = try CleanShutdownMarker.read(dataDirectory)
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
            if let cleanStop {
                throw StorageError.corrupt(
                    file: damage.file, offset: damage.offset,
                    reason: "\(damage.reason), after a clean shutdown that ended the log at sequence "
                        + "\(cleanStop.lastSequence) (\(CleanShutdownMarker.fileName)): damage, not an interrupted append")
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
        if let cleanStop, cleanStop.lastSequence != lastSequence {
            throw StorageError.corrupt(
                file: dataDirectory.file(CleanShutdownMarker.fileName), offset: 0,
                reason: "a clean shutdown ended the log at sequence \(cleanStop.lastSequence), "
                    + "but the directory holds records through \(lastSequence)")
        }
        snapshotState.withLock { state in
            state.coveredSequence = covered
            state.takenAt = monotonicNanoseconds()
        }
        writerStart.withLock { $0 = WriterStart(tail: outcome.tail, lastSequence: lastSequence, cleanStop: cleanStop != nil) }
        if startWriting { try self.startWriting() }

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

extension DurableStore {
    /// Where appends continue after a recovery.
    struct WriterStart: Sendable {
        var tail: LogScanner.Tail?
        var lastSequence: UInt64
        /// Whether a clean-shutdown marker is still to be removed.
        var cleanStop: Bool
    }

    /// Opens the log for appends after ``recover(snapshot:replay:startWriting:)`` ran with
    /// `startWriting: false`; may be called again after it throws (a disk still full).
    ///
    /// Removes the clean-shutdown marker first (durably), so that a crash from now on is again
    /// read as a crash.
    public func startWriting() throws(StorageError) {
        guard let start = writerStart.withLock({ $0 }) else {
            throw .invalidOperation("startWriting() needs a recovery first, and runs once after it")
        }
        if start.cleanStop {
            try CleanShutdownMarker.remove(dataDirectory)
            writerStart.withLock { $0?.cleanStop = false }
        }
        let writer: SegmentWriter
        if let tail = start.tail, tail.nextSequence == start.lastSequence + 1 {
            writer = try SegmentWriter.continuing(
                directory: dataDirectory, path: tail.file, firstSequence: tail.firstSequence, size: tail.validEnd,
                segmentBytes: configuration.segmentBytes, zeroFill: configuration.zeroFillSegments,
                faults: configuration.faultInjection)
        } else {
            writer = try SegmentWriter.creating(
                directory: dataDirectory, firstSequence: start.lastSequence + 1,
                segmentBytes: configuration.segmentBytes, zeroFill: configuration.zeroFillSegments,
                faults: configuration.faultInjection)
        }
        queue.start(lastSequence: start.lastSequence)
        let groupCommitter = GroupCommitter(
            queue: queue, writer: writer, durability: configuration.durability, logger: logger, taps: taps)
        let thread: CommitterThread
        do {
            thread = try CommitterThread { groupCommitter.run() }
        } catch {
            writer.close()
            queue.fail(error, discarded: true)
            throw error
        }
        committer.withLock { $0 = thread }
        writerStart.withLock { $0 = nil }
    }

    /// Stops the committer (after a failure, or to re-read the directory) and lets
    /// ``recover(snapshot:replay:startWriting:)`` run again, keeping the directory's lock.
    ///
    /// Records buffered but not yet written are dropped (their callbacks fail); what is
    /// written and acknowledged stays. Writes no clean-shutdown marker.
    public func restartForRecovery() {
        _ = queue.requestClose()
        let thread = committer.withLock { thread -> CommitterThread? in
            defer { thread = nil }
            return thread
        }
        thread?.join()
        queue.resetForRecovery()
        writerStart.withLock { $0 = nil }
    }

    /// Checks that the directory's file system has room for `bytes` more (by reserving them in a
    /// temporary file with `posix_fallocate`, then removing it). A store recovering from a full
    /// disk calls it before taking writes again, so that it does not flap between ready and full.
    public func probeFreeSpace(bytes: Int) throws(StorageError) {
        let path = dataDirectory.file("space-probe.tmp")
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .io(operation: "open", file: path, errno: errno) }
        let result = posix_fallocate(fd, 0, off_t(bytes))
        Glibc.close(fd)
        unlink(path)
        guard result == 0 else { throw .io(operation: "posix_fallocate", file: path, errno: result) }
    }

    /// Whether the last failure cut the unacknowledged records off the log (so writes that
    /// failed are known not to be on disk); nil while the store has not failed.
    public var failureDiscardedUnacknowledged: Bool? { queue.failureDiscardedUnacknowledged }
}
