/// Reads a data directory without opening it for writing: what it holds, and whether recovery
/// would accept it. ``repair(directory:logger:)`` fixes what recovery refuses.
///
/// `retain-storage inspect <dir>` and `retain-storage repair <dir>` are thin wrappers around it.
public enum StorageInspector {
    /// Lists and verifies every snapshot and log segment of `directory`.
    ///
    /// Read-only and lock-free, so it can run beside a live service (whose last segment may then
    /// show an append in progress as a torn tail).
    ///
    /// - Throws: ``StorageError/io(operation:file:errno:)`` if the directory cannot be read.
    public static func inspect(directory: String) throws -> DirectoryInspection {
        let dataDirectory = DataDirectory(path: directory)
        let listing = try dataDirectory.listing()
        var inspection = DirectoryInspection(directory: directory)
        inspection.lockHolder = DirectoryLock.holder(directory: directory)
        inspection.temporaryFiles = listing.temporaries.map(dataDirectory.file)
        inspection.quarantines = listing.quarantines.map(dataDirectory.file)
        for entry in listing.snapshots {
            inspection.snapshots.append(inspectSnapshot(dataDirectory.file(entry.name), coveredSequence: entry.coveredSequence))
        }
        for (index, entry) in listing.segments.enumerated() {
            inspection.segments.append(
                try inspectSegment(
                    dataDirectory.file(entry.name), firstSequence: entry.firstSequence,
                    isLast: index == listing.segments.count - 1))
        }

        var covered: UInt64 = 0
        if let newest = inspection.snapshots.last {
            if case .corrupt(let offset, let reason) = newest.status {
                inspection.recoveryProblem = "the newest snapshot \(newest.file) is corrupt at offset \(offset): \(reason)"
                return inspection
            }
            covered = newest.coveredSequence
        }
        let outcome = try LogScanner(directory: dataDirectory, segments: listing.segments).scan(after: covered) { _, _ in }
        if let damage = outcome.damage, damage.kind != .tornTail {
            inspection.recoveryProblem = "\(damage.file) at offset \(damage.offset): \(damage.reason)"
        }
        inspection.recoverableSequence = outcome.lastSequence
        return inspection
    }

    /// Decodes a whole snapshot, verifying its checksums and record count.
    static func inspectSnapshot(_ path: String, coveredSequence: UInt64) -> DirectoryInspection.Snapshot {
        var snapshot = DirectoryInspection.Snapshot(
            file: path, coveredSequence: coveredSequence, recordCount: 0,
            fileBytes: DataDirectory(path: ".").size(of: path) ?? 0, uncompressedBytes: 0, status: .ok)
        let verified = Result { () throws(StorageError) in
            let decoder = try SnapshotDecoder(path: path)
            snapshot.recordCount = decoder.header.recordCount
            snapshot.uncompressedBytes = decoder.header.uncompressedBytes
            snapshot.fileBytes = decoder.fileSize
            guard decoder.header.coveredSequence == coveredSequence else {
                throw .corrupt(
                    file: path, offset: 16,
                    reason: "header covers sequence \(decoder.header.coveredSequence), the name says \(coveredSequence)")
            }
            try decoder.finish()
        }
        switch verified {
        case .success:
            break
        case .failure(.corrupt(_, let offset, let reason)):
            snapshot.status = .corrupt(offset: offset, reason: reason)
        case .failure(let error):
            snapshot.status = .corrupt(offset: 0, reason: "\(error)")
        }
        return snapshot
    }

    /// Reads every record of one segment on its own (not relative to any snapshot).
    static func inspectSegment(_ path: String, firstSequence: UInt64, isLast: Bool) throws -> DirectoryInspection.Segment {
        var segment = DirectoryInspection.Segment(
            file: path, firstSequence: firstSequence, lastSequence: nil, recordCount: 0,
            fileBytes: DataDirectory(path: ".").size(of: path) ?? 0, status: .ok)
        let reader: LogSegmentReader
        switch Result(catching: { () throws(StorageError) in try LogSegmentReader(path: path) }) {
        case .success(let opened):
            reader = opened
        case .failure(.corrupt(_, let offset, let reason)):
            segment.status = .corrupt(offset: offset, reason: reason)
            return segment
        case .failure(let error):
            throw error
        }
        guard reader.header.firstSequence == firstSequence else {
            segment.status = .corrupt(
                offset: 16, reason: "header says the first sequence is \(reader.header.firstSequence), the name says \(firstSequence)")
            return segment
        }
        var expected = firstSequence
        while true {
            switch try reader.next() {
            case .record(let sequence, _, let offset):
                guard sequence == expected else {
                    segment.status = .corrupt(offset: offset, reason: "record has sequence \(sequence) where \(expected) was expected")
                    return segment
                }
                segment.lastSequence = sequence
                segment.recordCount += 1
                expected += 1
            case .end:
                return segment
            case .damaged(let offset, let reason):
                let previous = expected &- 1
                if isLast, try reader.findValidRecord(after: offset, where: { $0 > previous }) == nil {
                    segment.status = .tornTail(offset: offset, bytes: reader.fileSize - offset, reason: reason)
                } else {
                    segment.status = .corrupt(offset: offset, reason: reason)
                }
                return segment
            }
        }
    }
}
