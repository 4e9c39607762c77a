import Logging
import Synchronization
extension DurableStore {
    /// Writes a snapshot of the state after every record up to and including `coveringSequence`.
    ///
    /// The caller captures a consistent copy of its state under its own lock together with
    /// ``lastSequence`` (a copy-on-write value costs nothing to capture), then calls this from a
    /// background thread while appends go on. `body` streams the state's records into the
    /// writer; they are length-prefixed, compressed with `ZSTD_compressStream2` into
    /// `<dir>/snapshot-<sequence>.tmp`, and the file is `fsync`ed once `coveringSequence` is
    /// durable in the log, renamed to `snapshot-<sequence>.snap`, and the directory `fsync`ed.
    /// Only then are older files removed: all but the newest two snapshots, and the log segments
    /// wholly covered by the older of those two (so that the previous snapshot plus the log can
    /// still rebuild the state should the newest one be damaged).
    ///
    /// One snapshot runs at a time. Do not call it from a ``whenDurable(_:_:)`` callback.
    ///
    /// - Parameters:
    ///   - coveringSequence: The sequence the state copy reflects; at most ``lastSequence``, and
    ///     above the sequence of the previous snapshot.
    ///   - body: Writes the state's records.
    /// - Returns: The file, its sizes, and what was removed.
    /// - Throws: ``StorageError`` (I/O, unavailable, invalid operation) or what `body` throws; the
    ///   temporary file is removed and the previous snapshot stays in force.
    @discardableResult
    public func writeSnapshot(
        coveringSequence: UInt64, _ body: (inout SnapshotWriter) throws -> Void
    ) throws -> SnapshotReport {
        let started = ContinuousClock.now
        if let failure = queue.failure { throw failure }
        let last = lastSequence
        guard coveringSequence <= last else {
            throw StorageError.invalidOperation(
                "cannot snapshot through sequence \(coveringSequence): the last appended is \(last)")
        }
        try snapshotState.withLock { (state) throws(StorageError) in
            guard !state.inProgress else { throw .invalidOperation("a snapshot is already being written") }
            guard coveringSequence > state.coveredSequence else {
                throw .invalidOperation(
                    "the newest snapshot already covers sequence \(state.coveredSequence); "
                        + "a new one must cover more than that, not \(coveringSequence)")
            }
            state.inProgress = true
        }
        defer { snapshotState.withLock { $0.inProgress = false } }

        let faults = configuration.faultInjection
        let name = DataDirectory.snapshotName(coveredSequence: coveringSequence)
        let temporary = dataDirectory.file(DataDirectory.temporaryName(for: name))
        let encoder = try SnapshotEncoder(
            path: temporary, coveredSequence: coveringSequence, level: configuration.compressionLevel,
            workers: configuration.compressionWorkers,
            maxRecordBytes: configuration.maxRecordBytes, faults: faults)
        let header: SnapshotHeader
        do {
            var writer = SnapshotWriter(encoder: encoder)
            try body(&writer)
            header = try encoder.finish()
            try queue.waitDurable(coveringSequence)
            try faults?.check(.snapshotBeforeRename)
            try dataDirectory.rename(temporary, to: name)
            try dataDirectory.sync()
        } catch let crash as FaultInjection.SimulatedCrash {
            throw crash
        } catch {
            encoder.abandon()
            throw error
        }
        snapshotState.withLock { state in
            state.coveredSequence = coveringSequence
            state.takenAt = monotonicNanoseconds()
        }
        try faults?.check(.snapshotAfterRename)
        let (removedSnapshots, removedSegments) = try removeFilesSuperseded(by: coveringSequence)
        let report = SnapshotReport(
            file: dataDirectory.file(name), coveredSequence: coveringSequence, recordCount: header.recordCount,
            uncompressedBytes: header.uncompressedBytes,
            fileBytes: UInt64(SnapshotHeader.size) + header.contentBytes,
            removedSegments: removedSegments, removedSnapshots: removedSnapshots,
            duration: ContinuousClock.now - started)
        logger.info(
            "Wrote snapshot",
            metadata: [
                "file": "\(report.file)", "coveredSequence": "\(coveringSequence)", "records": "\(report.recordCount)",
                "bytes": "\(report.fileBytes)", "duration": "\(report.duration)",
                "removedSegments": "\(removedSegments.count)", "removedSnapshots": "\(removedSnapshots.count)",
            ])
        return report
    }

    /// Removes all but the newest two snapshots, and the segments wholly covered by the older of
    /// those two. Runs only after the newest snapshot is durable.
    private func removeFilesSuperseded(by coveredSequence: UInt64) throws -> (snapshots: [String], segments: [String]) {
        let listing = try dataDirectory.listing()
        let kept = listing.snapshots.filter { $0.coveredSequence <= coveredSequence }.suffix(2)
        var removedSnapshots: [String] = []
        for snapshot in listing.snapshots where !kept.contains(snapshot) && snapshot.coveredSequence < coveredSequence {
            try dataDirectory.remove(snapshot.name)
            removedSnapshots.append(dataDirectory.file(snapshot.name))
        }
        if !removedSnapshots.isEmpty { try dataDirectory.sync() }
        try configuration.faultInjection?.check(.snapshotAfterRemovingSnapshots)

        var removedSegments: [String] = []
        if kept.count == 2, let previous = kept.first {
            let segments = listing.segments
            for index in segments.indices.dropLast() where segments[index + 1].firstSequence - 1 <= previous.coveredSequence {
                try dataDirectory.remove(segments[index].name)
                removedSegments.append(dataDirectory.file(segments[index].name))
            }
        }
        if !removedSegments.isEmpty { try dataDirectory.sync() }
        return (removedSnapshots, removedSegments)
    }

    /// Whether the snapshot policy says it is time for a snapshot: at least
    /// ``StorageConfiguration/snapshotEveryRecords`` records since the last one, or at least
    /// ``StorageConfiguration/snapshotEverySeconds`` seconds and one record. Always `false` while
    /// a snapshot is being written.
    public var snapshotDue: Bool {
        let last = lastSequence
        let now = monotonicNanoseconds()
        return snapshotState.withLock { state in
            guard !state.inProgress, last > state.coveredSequence else { return false }
            if last - state.coveredSequence >= UInt64(max(configuration.snapshotEveryRecords, 1)) { return true }
            let elapsed = now &- state.takenAt
            return elapsed >= UInt64(max(configuration.snapshotEverySeconds, 0)) * 1_000_000_000
        }
    }

    /// The sequence covered by the newest snapshot (0 if there is none).
    public var snapshotSequence: UInt64 {
        snapshotState.withLock { $0.coveredSequence }
    }
}
