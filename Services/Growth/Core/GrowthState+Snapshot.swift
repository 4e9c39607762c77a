public import RetainState
import RetainWebhooks
import RetainProto
import RetainRuleSets
import RetainMoves

/// Snapshot layout (docs/STORAGE.md#growth-snapshots): a ``Retain_V1_GrowthSnapshotHeader`` (with the
/// rule-set versions), the users, the retained level-change events, oldest first, then the
/// webhooks' records. Format 2 (since 2026-12-07) packs
/// runs of users and of events into plain records (``UserGrowth/pack(_:into:)``); format 1 held
/// one protobuf record per user (``Retain_V1_GrowthUserRecord``) and per event, and still loads.
extension GrowthState {
    /// The snapshot format written.
    package static let snapshotFormat: UInt32 = 2
    /// Users or events per packed run record, at most.
    package static let packedRunCount = 256
    /// A run record ends early once it holds this many bytes (one user may hold more).
    package static let packedRunBytes = 256 << 10

    /// The format ``writeSnapshot(to:)`` writes: ``snapshotFormat``; tests set 1 to write
    /// snapshots as before format 2 and check that they still load.
    @TaskLocal package static var writtenSnapshotFormat: UInt32 = snapshotFormat

    /// Keys per run that a restore sorts on another thread (``SortedKeyRuns``): 131,072; tests
    /// set fewer to restore many runs from a small state.
    @TaskLocal package static var boardRunLength = SortedKeyRuns.defaultRunLength

    public func writeSnapshot(to sink: inout SnapshotSink) throws {
        let format = Self.writtenSnapshotFormat
        try sink.write(
            Retain_V1_GrowthSnapshotHeader(
                format: format, streamId: streamID, userCount: UInt64(users.count), eventCount: UInt64(events.count),
                nextEventPosition: nextEventPosition, newestWeek: newestWeek, fencedUsers: fences.fenced.sorted(),
                fenceVersion: fences.fenceVersion, droppedSinceFence: fences.droppedSinceFence,
                importedVersion: fences.importedVersion,
                ruleSetVersions: ruleSets.versions))
        if format == 1 {
            for (userID, user) in users {
                try sink.write(user.record(userID))
            }
            for event in events { try sink.write(event) }
        } else {
            var run = PackedRun(capacity: Self.packedRunBytes + (Self.packedRunBytes >> 2))
            try users.forEachUser { userID, user in
                user.pack(userID, into: &run.writer)
                try run.added(to: &sink)
            }
            try run.flush(to: &sink)
            for event in events {
                event.pack(into: &run.writer)
                try run.added(to: &sink)
            }
            try run.flush(to: &sink)
        }
        try webhooks.writeSnapshot(to: &sink)
    }

    /// Rebuilds users and events from the records, and the leaderboards from the users. Each
    /// board's keys are sorted in runs on other threads as the users are read
    /// (``SortedKeyRuns``); once the users are read, ``RestoreWorker``s merge the boards (and,
    /// format 2, index the users) on other threads while the events and the webhooks' records
    /// are read.
    public mutating func restore(from source: inout SnapshotSource) throws {
        guard let header = try source.next(Retain_V1_GrowthSnapshotHeader.self) else {
            throw StateRecoveryError("growth snapshot: no header record")
        }
        guard header.format == 1 || header.format == 2 else {
            throw StateRecoveryError("growth snapshot: unknown format \(header.format)")
        }
        streamID = header.streamId
        nextEventPosition = header.nextEventPosition
        newestWeek = header.newestWeek
        fences = UserFences(
            fenced: header.fencedUsers, fenceVersion: header.fenceVersion, droppedSinceFence: header.droppedSinceFence,
            importedVersion: header.importedVersion)
        do {
            try ruleSets.restore(header.ruleSetVersions)
        } catch {
            throw StateRecoveryError("growth snapshot: \(error)")
        }
        users.reserveCapacity(Int(header.userCount))
        var boards = BoardKeys(oldestWeek: oldestKeptWeek)
        let boardsBuilt: RestoreWorker<(overall: Leaderboard, weekly: [Int32: Leaderboard])>
        var indexBuilt: RestoreWorker<[Int32]>?
        if header.format == 1 {
            for index in 0..<header.userCount {
                guard let record = try source.next(Retain_V1_GrowthUserRecord.self) else {
                    throw StateRecoveryError("growth snapshot: user record \(index) of \(header.userCount) is missing")
                }
                let user = UserGrowth(record)
                boards.add(user, record.userId)
                users.put(record.userId, user)
            }
            boardsBuilt = RestoreWorker(consume boards) { boards in boards.build() }
            for index in 0..<header.eventCount {
                guard let event = try source.next(Retain_V1_LevelChangeEvent.self) else {
                    throw StateRecoveryError("growth snapshot: event record \(index) of \(header.eventCount) is missing")
                }
                events.append(event)
            }
        } else {
            try Self.readUserRuns(count: header.userCount, from: &source) { userID, user in
                boards.add(user, userID)
                users.appendUnindexed(new: userID, user)
            }
            // The boards' merges and the user index on other cores while the events are read.
            boardsBuilt = RestoreWorker(consume boards) { boards in boards.build() }
            indexBuilt = RestoreWorker(users.userIDs) { ids in UserTable.index(of: ids) }
            try Self.readRuns(of: "events", count: header.eventCount, from: &source) { reader throws(PackedError) in
                events.append(try Retain_V1_LevelChangeEvent.unpack(from: &reader))
            }
        }
        if let last = events.last, last.position != headPosition {
            throw StateRecoveryError("growth snapshot: newest event is at \(last.position), header says \(headPosition)")
        }
        try webhooks.restore(from: &source)
        if let indexBuilt { users.setIndex(indexBuilt.join()) }
        (overall, weekly) = boardsBuilt.join()
    }

    /// The next run record of `what` (a u32 count, then the packed elements), due after `read`
    /// of `count` elements: its bytes (valid until the next record is read) and its count.
    /// Refused when the snapshot ends, the record is empty or its count is 0 or more than are
    /// left.
    static func nextRun(
        of what: String, after read: UInt64, of count: UInt64, from source: inout SnapshotSource
    ) throws -> (bytes: UnsafeRawBufferPointer, count: UInt64) {
        guard let bytes = try source.nextBytes() else {
            throw StateRecoveryError("growth snapshot: \(read) of \(count) \(what) read, then the snapshot ends")
        }
        var reader = PackedReader(bytes)
        let inRun: UInt64
        do {
            let value: UInt32 = try reader.get()
            inRun = UInt64(value)
        } catch {
            throw StateRecoveryError("growth snapshot: an empty record where \(what) after \(read) of \(count) were due")
        }
        guard inRun > 0, inRun <= count - read else {
            throw StateRecoveryError("growth snapshot: a run of \(inRun) \(what) after \(read) of \(count)")
        }
        return (bytes, inRun)
    }

    /// Reads run records (a u32 count, then the packed elements) until `count` elements were
    /// read, each through `element`.
    private static func readRuns(
        of what: String, count: UInt64, from source: inout SnapshotSource,
        _ element: (inout PackedReader) throws(PackedError) -> Void
    ) throws {
        var read: UInt64 = 0
        while read < count {
            let (bytes, inRun) = try nextRun(of: what, after: read, of: count, from: &source)
            var reader = PackedReader(bytes)
            reader.offset = 4
            do {
                for _ in 0..<inRun { try element(&reader) }
            } catch {
                throw StateRecoveryError("growth snapshot: \(what) after \(read) of \(count) are malformed: \(error)")
            }
            read += inRun
            guard reader.atEnd else {
                throw StateRecoveryError("growth snapshot: bytes left after a run of \(what) ending at \(read)")
            }
        }
    }
}

/// A run record being filled: a u32 count, then packed elements.
private struct PackedRun: ~Copyable {
    var writer: PackedWriter
    private var count: UInt32 = 0

    init(capacity: Int) {
        writer = PackedWriter(capacity: capacity)
        writer.put(UInt32(0))
    }

    /// Counts the element just packed; writes the run when it is full.
    mutating func added(to sink: inout SnapshotSink) throws {
        count += 1
        if Int(count) >= GrowthState.packedRunCount || writer.count >= GrowthState.packedRunBytes { try flush(to: &sink) }
    }

    /// Writes the run, if it holds anything, and starts the next.
    mutating func flush(to sink: inout SnapshotSink) throws {
        guard count > 0 else { return }
        let value = count.littleEndian
        writer.withMutableBytes { $0.storeBytes(of: value, toByteOffset: 0, as: UInt32.self) }
        try sink.write(packed: writer)
        writer.removeAll()
        writer.put(UInt32(0))
        count = 0
    }
}

/// The leaderboards' keys gathered while users are restored, to build each board at once;
/// each board's keys are sorted in runs on other threads as they come (``SortedKeyRuns``).
private struct BoardKeys: Sendable {
    var overall = SortedKeyRuns()
    var weekly: [Int32: SortedKeyRuns] = [:]
    let oldestWeek: Int32

    init(oldestWeek: Int32) {
        self.oldestWeek = oldestWeek
    }

    /// The boards, each merged from its sorted runs: the weekly ones each on a thread of its
    /// own, the overall one on this thread.
    consuming func build() -> (overall: Leaderboard, weekly: [Int32: Leaderboard]) {
        var merging: [(week: Int32, board: RestoreWorker<Leaderboard>)] = []
        for week in Array(weekly.keys) {
            let keys = weekly.removeValue(forKey: week)!
            merging.append((week, RestoreWorker(consume keys) { keys in Leaderboard(sorted: keys.sorted()) }))
        }
        var keys = SortedKeyRuns(runLength: 1)
        swap(&keys, &overall)
        let overall = Leaderboard(sorted: keys.sorted())
        var boards: [Int32: Leaderboard] = [:]
        for (week, board) in merging { boards[week] = board.join() }
        return (overall, boards)
    }

    mutating func add(_ user: borrowing UserGrowth, _ userID: String) {
        if user.total > 0 { overall.append(user.boardKey(userID)) }
        for week in user.weeks where week.week >= oldestWeek && week.score > 0 {
            weekly[week.week, default: SortedKeyRuns()].append(
                LeaderboardKey(score: week.score, reachedAtMs: week.reachedAtMs, userID: userID))
        }
    }
}
