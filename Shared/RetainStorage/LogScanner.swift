/// Walks the log segments a recovery needs, in order, checking every frame and the continuity of
/// sequences, and classifies the first damage it meets.
///
/// Reading starts at the segment holding `coveredSequence + 1` (segments wholly covered by the
/// snapshot are not read). Damage in the last segment with no valid record anywhere after it is
/// a *torn tail*: a crash stopped an append, nothing after it was ever acknowledged. Any other
/// damage — a bad frame followed by valid ones, a bad frame in an earlier segment, a sequence gap
/// — is *corruption*.
package struct LogScanner {
    /// Where, and how, the log is damaged.
    package struct Damage: Sendable, Equatable {
        /// What kind of damage.
        package enum Kind: Sendable, Equatable {
            /// An append interrupted by a crash; safe to cut off.
            case tornTail
            /// Anything else: recovery must stop.
            case corrupt
            /// The log starts after the snapshot's coverage: records in between are gone.
            case missingRecords
        }

        package var kind: Kind
        /// The damaged segment's path.
        package var file: String
        /// Offset of the first byte that is not part of a valid record.
        package var offset: Int64
        /// Why the bytes at `offset` are not a valid record.
        package var reason: String
        /// Bytes from `offset` to the end of the file.
        package var bytesAfter: Int64
        /// The sequence the damaged record should have carried.
        package var expectedSequence: UInt64 = 0
        /// Later segments, which cannot be used once this one is damaged.
        package var laterSegments: [String]
    }

    /// Where appends continue: the last readable segment and the end of its valid records.
    package struct Tail: Sendable, Equatable {
        package var file: String
        package var firstSequence: UInt64
        /// Offset just after the last valid record.
        package var validEnd: Int64
        /// The sequence the next record in this segment must carry.
        package var nextSequence: UInt64
    }

    /// What a scan found.
    package struct Outcome: Sendable {
        /// The newest sequence in the snapshot or the valid log, whichever is later.
        package var lastSequence: UInt64
        /// The oldest sequence found in the segments read (nil when they hold no record).
        package var firstLoggedSequence: UInt64?
        /// The newest sequence found in the log (nil when it holds no record).
        package var lastLoggedSequence: UInt64?
        /// Records after the snapshot passed to the visitor.
        package var replayedRecords: UInt64 = 0
        /// Segments read.
        package var segmentsRead: [String] = []
        /// The segment appends continue in, if any segment was readable.
        package var tail: Tail?
        /// The first damage, if any.
        package var damage: Damage?
    }

    let directory: DataDirectory
    let segments: [DataDirectory.SegmentEntry]

    /// A scanner over `segments` (sorted by first sequence) of `directory`.
    package init(directory: DataDirectory, segments: [DataDirectory.SegmentEntry]) {
        self.directory = directory
        self.segments = segments
    }

    /// Scans the log after `coveredSequence`, passing each later record to `visit` in order.
    ///
    /// Throws for I/O errors and whatever `visit` throws; damage is reported in the outcome.
    package func scan(
        after coveredSequence: UInt64,
        visit: (UInt64, UnsafeRawBufferPointer) throws -> Void
    ) throws -> Outcome {
        var outcome = Outcome(lastSequence: coveredSequence)
        guard !segments.isEmpty else { return outcome }
        guard let startIndex = segments.lastIndex(where: { $0.firstSequence <= coveredSequence &+ 1 }) else {
            let first = segments[0]
            outcome.damage = Damage(
                kind: .missingRecords, file: directory.file(first.name), offset: 0,
                reason: "the log starts at sequence \(first.firstSequence) but "
                    + (coveredSequence == 0
                        ? "there is no snapshot" : "the newest snapshot covers only up to \(coveredSequence)")
                    + "; records \(coveredSequence + 1)...\(first.firstSequence - 1) are missing",
                bytesAfter: directory.size(of: first.name) ?? 0,
                laterSegments: segments.dropFirst().map { directory.file($0.name) })
            return outcome
        }
        var expected = segments[startIndex].firstSequence
        for index in startIndex..<segments.count {
            let entry = segments[index]
            let path = directory.file(entry.name)
            let isLast = index == segments.count - 1
            let later = segments[(index + 1)...].map { directory.file($0.name) }
            outcome.segmentsRead.append(path)
            let reader: LogSegmentReader
            switch Result(catching: { () throws(StorageError) in try LogSegmentReader(path: path) }) {
            case .success(let opened):
                reader = opened
            case .failure(.corrupt(let file, let offset, let reason)):
                outcome.damage = Damage(
                    kind: .corrupt, file: file, offset: offset, reason: reason,
                    bytesAfter: directory.size(of: entry.name) ?? 0, expectedSequence: expected, laterSegments: later)
                return outcome
            case .failure(let error):
                throw error
            }
            guard reader.header.firstSequence == entry.firstSequence else {
                outcome.damage = Damage(
                    kind: .corrupt, file: path, offset: 16,
                    reason: "header says the first sequence is \(reader.header.firstSequence), the name says \(entry.firstSequence)",
                    bytesAfter: reader.fileSize - 16, expectedSequence: expected, laterSegments: later)
                return outcome
            }
            guard entry.firstSequence == expected else {
                outcome.damage = Damage(
                    kind: .corrupt, file: path, offset: 0,
                    reason: "segment starts at sequence \(entry.firstSequence) but the previous one ended at \(expected - 1)",
                    bytesAfter: reader.fileSize, expectedSequence: expected, laterSegments: later)
                return outcome
            }
            reading: while true {
                switch try reader.next() {
                case .record(let sequence, let payload, let offset):
                    guard sequence == expected else {
                        outcome.damage = Damage(
                            kind: .corrupt, file: path, offset: offset,
                            reason: "record has sequence \(sequence) where \(expected) was expected",
                            bytesAfter: reader.fileSize - offset, expectedSequence: expected, laterSegments: later)
                        return outcome
                    }
                    if sequence > coveredSequence {
                        try visit(sequence, payload)
                        outcome.replayedRecords += 1
                    }
                    if outcome.firstLoggedSequence == nil { outcome.firstLoggedSequence = sequence }
                    outcome.lastLoggedSequence = sequence
                    expected = sequence + 1
                case .end:
                    break reading
                case .damaged(let offset, let reason):
                    var kind = Damage.Kind.corrupt
                    var explanation = reason
                    if isLast {
                        let previous = expected &- 1
                        if let valid = try reader.findValidRecord(after: offset, where: { $0 > previous }) {
                            explanation +=
                                "; a valid record (sequence \(valid.sequence)) follows at offset"
                                + " \(valid.offset), so this is not a torn append"
                        } else {
                            kind = .tornTail
                        }
                    }
                    outcome.damage = Damage(
                        kind: kind, file: path, offset: offset, reason: explanation,
                        bytesAfter: reader.fileSize - offset, expectedSequence: expected, laterSegments: later)
                    outcome.tail = Tail(
                        file: path, firstSequence: entry.firstSequence, validEnd: offset, nextSequence: expected)
                    outcome.lastSequence = max(coveredSequence, outcome.lastLoggedSequence ?? 0)
                    return outcome
                }
            }
            outcome.tail = Tail(
                file: path, firstSequence: entry.firstSequence, validEnd: reader.offset, nextSequence: expected)
        }
        outcome.lastSequence = max(coveredSequence, outcome.lastLoggedSequence ?? 0)
        return outcome
    }
}
