import Glibc
public import Logging

extension StorageInspector {
    /// Makes `directory` recoverable again, keeping a copy of everything it drops.
    ///
    /// Takes the directory's lock (so the service must be stopped), then:
    /// 1. moves unfinished `.tmp` files to the quarantine;
    /// 2. moves every corrupt snapshot newer than the newest intact one to the quarantine
    ///    (recovery then starts from the intact one, and the log kept since it);
    /// 3. walks the log from that snapshot on, fixing the first damage and walking again:
    ///    - a damaged segment header is rewritten from the file name (the old header is kept);
    ///    - damage inside records the snapshot already covers: the segment's records after the
    ///      snapshot are rewritten into a fresh segment, the damaged segment is moved away;
    ///    - any other damage: the segment is cut at the damage, the cut bytes are copied to the
    ///      quarantine, and every later segment is moved there. Records after the damage are
    ///      dropped even if intact: replaying them without the lost one would apply later
    ///      operations without an earlier one.
    ///
    /// Everything dropped lands in `<dir>/quarantine-<UTC timestamp>/` with a `MANIFEST.txt`.
    ///
    /// - Returns: What was done, where the copies are, and the sequence recovery will now reach.
    /// - Throws: ``StorageError/locked(directory:holderPID:)`` while a service has it open;
    ///   ``StorageError/corrupt(file:offset:reason:)`` for damage no repair can undo (records
    ///   missing between the snapshot and the log).
    public static func repair(directory: String, logger: Logger) throws -> RepairReport {
        let dataDirectory = DataDirectory(path: directory)
        _ = try dataDirectory.listing()
        let lock = try DirectoryLock(directory: directory)
        defer { lock.release() }
        var repair = Repair(directory: dataDirectory, logger: logger)
        try repair.run()
        return repair.report
    }
}

/// The steps of one repair, and what they did.
private struct Repair {
    let directory: DataDirectory
    let logger: Logger
    let quarantine: Quarantine
    var report: RepairReport

    init(directory: DataDirectory, logger: Logger) {
        self.directory = directory
        self.logger = logger
        self.quarantine = Quarantine(directory: directory)
        self.report = RepairReport(directory: directory.path)
    }

    mutating func run() throws {
        let listing = try directory.listing()
        for temporary in listing.temporaries {
            try quarantine.move(temporary)
            record("moved the unfinished temporary file \(temporary) to the quarantine")
        }

        var covered: UInt64 = 0
        for snapshot in listing.snapshots.reversed() {
            let inspected = StorageInspector.inspectSnapshot(directory.file(snapshot.name), coveredSequence: snapshot.coveredSequence)
            if case .corrupt(let offset, let reason) = inspected.status {
                try quarantine.move(snapshot.name)
                record(
                    "snapshot \(snapshot.name) is corrupt at offset \(offset) (\(reason)); moved it to the quarantine"
                        + " (recovery falls back to the previous snapshot and the log kept since it)")
                continue
            }
            covered = snapshot.coveredSequence
            break
        }

        let limit = 3 * (listing.segments.count + 1)
        for _ in 0..<limit {
            let segments = try directory.listing().segments
            let outcome = try LogScanner(directory: directory, segments: segments).scan(after: covered) { _, _ in }
            guard let damage = outcome.damage else {
                try settleCleanMarker(lastSequence: outcome.lastSequence)
                report.lastSequence = outcome.lastSequence
                try quarantine.finish(actions: report.actions)
                report.quarantine = quarantine.path
                return
            }
            switch damage.kind {
            case .missingRecords:
                try quarantine.finish(actions: report.actions)
                report.quarantine = quarantine.path
                throw StorageError.corrupt(
                    file: damage.file, offset: damage.offset,
                    reason: damage.reason + "; repair cannot recreate missing records (restore the directory from a backup)")
            case .tornTail, .corrupt:
                if damage.offset < Int64(LogSegmentHeader.size) {
                    try rewriteHeader(damage)
                } else if damage.expectedSequence <= covered, try rebase(damage, covered: covered) {
                    continue
                } else {
                    try cut(damage)
                }
            }
        }
        throw StorageError.corrupt(
            file: directory.path, offset: 0, reason: "repair did not converge after \(limit) passes; inspect the directory by hand")
    }

    /// Moves the clean-shutdown marker to the quarantine when the repair changed the log or the
    /// log does not end where the marker says: recovery would otherwise refuse the directory.
    private mutating func settleCleanMarker(lastSequence: UInt64) throws {
        guard directory.size(of: CleanShutdownMarker.fileName) != nil else { return }
        let marker = try? CleanShutdownMarker.read(directory)
        guard marker == nil || !report.actions.isEmpty || marker?.lastSequence != lastSequence else { return }
        try quarantine.move(CleanShutdownMarker.fileName)
        let said = marker.map { "last sequence \($0.lastSequence)" } ?? "unreadable"
        record("moved the clean-shutdown marker (\(said)) to the quarantine: the log now ends at sequence \(lastSequence)")
    }

    /// Rewrites a damaged segment header from the file name, keeping the old header bytes.
    private mutating func rewriteHeader(_ damage: LogScanner.Damage) throws {
        let name = baseName(damage.file)
        guard let firstSequence = try directory.listing().segments.first(where: { $0.name == name })?.firstSequence else {
            throw StorageError.corrupt(file: damage.file, offset: damage.offset, reason: damage.reason)
        }
        try quarantine.copy(from: damage.file, offset: 0, name: name + ".original")
        let file = try PosixFile(path: damage.file, flags: O_WRONLY)
        if try file.size() < Int64(LogSegmentHeader.size) { try file.truncate(to: Int64(LogSegmentHeader.size)) }
        try LogSegmentHeader(firstSequence: firstSequence).encoded().withBytes { (bytes) throws(StorageError) in
            try file.writeAll(bytes, at: 0)
        }
        try file.syncData()
        record(
            "\(name): damaged header (\(damage.reason)); rewrote it from the file name (first sequence \(firstSequence));"
                + " the original file is kept as \(name).original")
    }

    /// Damage inside records the snapshot covers: keeps the segment's records after the snapshot
    /// as a fresh segment and moves the damaged one away. `false` if they cannot be found.
    private mutating func rebase(_ damage: LogScanner.Damage, covered: UInt64) throws -> Bool {
        let name = baseName(damage.file)
        let reader = try LogSegmentReader(path: damage.file)
        let target = covered + 1
        let newName = DataDirectory.segmentName(firstSequence: target)
        guard newName != name else { return false }
        if let found = try reader.findValidRecord(after: damage.offset, where: { $0 == target }) {
            let temporary = DataDirectory.temporaryName(for: newName)
            let output = try PosixFile(path: directory.file(temporary), flags: O_WRONLY | O_CREAT | O_TRUNC)
            try LogSegmentHeader(firstSequence: target).encoded().withBytes { (bytes) throws(StorageError) in
                try output.writeAll(bytes)
            }
            let input = try PosixFile(path: damage.file, flags: O_RDONLY)
            let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
            defer { chunk.deallocate() }
            var position = found.offset
            while true {
                let read = try input.read(into: chunk, at: position)
                if read == 0 { break }
                try output.writeAll(UnsafeRawBufferPointer(rebasing: chunk[0..<read]))
                position += Int64(read)
            }
            try output.syncData()
            try quarantine.move(name)
            try directory.rename(temporary, to: newName)
            try directory.sync()
            record(
                "\(name) is damaged at offset \(damage.offset) (\(damage.reason)) inside records the snapshot already"
                    + " covers (through \(covered)); moved it to the quarantine and kept its records from sequence"
                    + " \(target) on (offset \(found.offset)) as \(newName)")
        } else {
            try quarantine.move(name)
            record(
                "\(name) is damaged at offset \(damage.offset) (\(damage.reason)) inside records the snapshot already"
                    + " covers (through \(covered)) and holds no intact record after it; moved it to the quarantine")
            for later in damage.laterSegments {
                try quarantine.move(baseName(later))
                record("moved the later segment \(baseName(later)) to the quarantine (the log before it is gone)")
            }
        }
        return true
    }

    /// Cuts the log at the damage, copying what is cut and moving later segments away.
    private mutating func cut(_ damage: LogScanner.Damage) throws {
        let name = baseName(damage.file)
        try quarantine.copy(from: damage.file, offset: damage.offset, name: "\(name).from-offset-\(damage.offset)")
        let file = try PosixFile(path: damage.file, flags: O_WRONLY)
        try file.truncate(to: damage.offset)
        try file.syncData()
        let what = damage.kind == .tornTail ? "torn tail" : "damage"
        record(
            "\(name): \(what) at offset \(damage.offset) (\(damage.reason)); cut the file there, dropping"
                + " \(damage.bytesAfter) bytes from sequence \(damage.expectedSequence) on (copied to"
                + " \(name).from-offset-\(damage.offset))")
        for later in damage.laterSegments {
            try quarantine.move(baseName(later))
            record("moved the later segment \(baseName(later)) to the quarantine (it follows the cut)")
        }
    }

    private mutating func record(_ action: String) {
        logger.warning("Repair", metadata: ["action": "\(action)"])
        report.actions.append(action)
    }
}
