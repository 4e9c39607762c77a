import RetainProto
import RetainState

/// The packed layout of a user in snapshots of format 2 (``GrowthState/snapshotFormat``),
/// little-endian; a run record holds a u32 user count, then that many users one after the other:
///
/// ```
/// +----------------------+-------------------------------------------------------------+
/// | user_id              | string                                                      |
/// | total, reached_at_ms | i64, i64                                                    |
/// | pruned_growth        | i64                                                         |
/// | reviewed_at_ms       | i64                                                         |
/// | last_check_in_day    | i32                                                         |
/// | streak, longest,     | u32, u32, u32                                               |
/// | level                |                                                             |
/// | time_zone            | string                                                      |
/// | days                 | u32 count, each: i32 local day, i64 award growth, i64 all   |
/// |                      | growth, u32 actions, each: string action, i64 growth        |
/// | tasks                | u32 count, each: string task id, string period key, i64     |
/// |                      | period start, i64 period end, u32 progress, i64 completed,  |
/// |                      | i64 claimed, bytes claim answer                             |
/// | keys                 | bytes: the idempotency records as ``IdempotencyKeys`` holds |
/// |                      | them (u32 key length, key, u64 fingerprint, i64 recorded at,|
/// |                      | u32 answer length, answer; repeated)                        |
/// | history              | u32 count, each: i64 at, i32 kind, string action, i64       |
/// |                      | growth, i32 local day                                       |
/// | weeks                | u32 count, each: i32 week, i64 score, i64 reached at        |
/// | level_changes        | u32 count, each a level-change event (below)                |
/// +----------------------+-------------------------------------------------------------+
/// level-change event: u64 position, string user id, u32 from, u32 to, string to-level name,
///                     i64 total growth, i64 at, string cause action, string cause key
/// string = u32 byte count, then the UTF-8 bytes; bytes = u32 count, then the bytes
/// ```
///
/// The fields are those of ``Retain_V1_GrowthUserRecord`` (format 1, one protobuf record per
/// user), packed without building the protobuf values: writing and reading a million users
/// costs little next to compressing them.
extension UserGrowth {
    /// Appends the user in the packed layout.
    func pack(_ userID: String, into writer: inout PackedWriter) {
        writer.put(userID)
        writer.put(fixed: 48) { fixed in
            fixed.storeBytes(of: total.littleEndian, toByteOffset: 0, as: Int64.self)
            fixed.storeBytes(of: reachedAtMs.littleEndian, toByteOffset: 8, as: Int64.self)
            fixed.storeBytes(of: prunedGrowth.littleEndian, toByteOffset: 16, as: Int64.self)
            fixed.storeBytes(of: reviewedAtMs.littleEndian, toByteOffset: 24, as: Int64.self)
            fixed.storeBytes(of: lastCheckInDay.littleEndian, toByteOffset: 32, as: Int32.self)
            fixed.storeBytes(of: streak.littleEndian, toByteOffset: 36, as: UInt32.self)
            fixed.storeBytes(of: longestStreak.littleEndian, toByteOffset: 40, as: UInt32.self)
            fixed.storeBytes(of: level.littleEndian, toByteOffset: 44, as: UInt32.self)
        }
        writer.put(timeZone)
        writer.put(UInt32(days.count))
        for day in days { day.pack(into: &writer) }
        writer.put(UInt32(tasks.count))
        for task in tasks {
            writer.put(task.taskId)
            writer.put(task.periodKey)
            writer.put(task.periodStartMs)
            writer.put(task.periodEndMs)
            writer.put(task.progress)
            writer.put(task.completedAtMs)
            writer.put(task.claimedAtMs)
            writer.putBytes(task.claimAnswer)
        }
        keys.withPackedBytes { packed in
            writer.put(UInt32(packed.count))
            writer.put(bytes: packed)
        }
        writer.put(UInt32(history.count))
        for record in history {
            writer.put(record.atMs)
            writer.put(record.kind.rawValue)
            writer.put(record.action)
            writer.put(record.growth)
            writer.put(record.localDay)
        }
        writer.put(UInt32(weeks.count))
        for week in weeks {
            writer.put(week.week)
            writer.put(week.score)
            writer.put(week.reachedAtMs)
        }
        writer.put(UInt32(levelChanges.count))
        for event in levelChanges { event.pack(into: &writer) }
    }

    /// Reads one user and its id.
    static func unpack(from reader: inout PackedReader) throws(PackedError) -> (userID: String, user: UserGrowth) {
        let userID = try reader.string()
        var user = UserGrowth()
        user.total = try reader.get()
        user.reachedAtMs = try reader.get()
        user.prunedGrowth = try reader.get()
        user.reviewedAtMs = try reader.get()
        user.lastCheckInDay = try reader.get()
        user.streak = try reader.get()
        user.longestStreak = try reader.get()
        user.level = try reader.get()
        user.timeZone = try reader.string()
        let dayCount = try reader.count()
        for _ in 0..<dayCount { user.days.append(try DayCounter.unpack(from: &reader)) }
        let taskCount = try reader.count()
        for _ in 0..<taskCount {
            var task = Retain_V1_GrowthTaskProgress(
                taskId: try reader.string(), periodKey: try reader.string(), periodStartMs: try reader.get(),
                periodEndMs: try reader.get(), progress: try reader.get(), completedAtMs: try reader.get(),
                claimedAtMs: try reader.get())
            let answerBytes = try reader.count()
            task.claimAnswer = try reader.byteArray(answerBytes)
            user.tasks.append(task)
        }
        let keyBytes = try reader.count()
        user.keys = try IdempotencyKeys(packed: try reader.bytes(keyBytes))
        let historyCount = try reader.count()
        if historyCount > 0 {
            user.history.reserveCapacity(min(historyCount, 64))
            for _ in 0..<historyCount {
                user.history.append(
                    Retain_V1_GrowthHistoryRecord(
                        atMs: try reader.get(), kind: Retain_V1_GrowthHistoryKind(rawValue: try reader.get()),
                        action: try reader.string(), growth: try reader.get(), localDay: try reader.get()))
            }
        }
        let weekCount = try reader.count()
        for _ in 0..<weekCount {
            user.weeks.append(
                Retain_V1_GrowthWeekScore(week: try reader.get(), score: try reader.get(), reachedAtMs: try reader.get()))
        }
        let changeCount = try reader.count()
        if changeCount > 0 {
            user.levelChanges.reserveCapacity(min(changeCount, 64))
            for _ in 0..<changeCount { user.levelChanges.append(try Retain_V1_LevelChangeEvent.unpack(from: &reader)) }
        }
        return (userID, user)
    }
}

extension Retain_V1_LevelChangeEvent {
    /// Appends the event in the packed layout (the user's level changes and the retained events).
    func pack(into writer: inout PackedWriter) {
        writer.put(position)
        writer.put(userId)
        writer.put(fromLevel)
        writer.put(toLevel)
        writer.put(toLevelName)
        writer.put(totalGrowth)
        writer.put(atMs)
        writer.put(causeAction)
        writer.put(causeKey)
    }

    /// Reads an event written by ``pack(into:)``.
    static func unpack(from reader: inout PackedReader) throws(PackedError) -> Retain_V1_LevelChangeEvent {
        Retain_V1_LevelChangeEvent(
            position: try reader.get(), userId: try reader.string(), fromLevel: try reader.get(), toLevel: try reader.get(),
            toLevelName: try reader.string(), totalGrowth: try reader.get(), atMs: try reader.get(),
            causeAction: try reader.string(), causeKey: try reader.string())
    }
}

extension PackedWriter {
    /// Appends bytes as a u32 count and the bytes.
    mutating func putBytes(_ bytes: [UInt8]) {
        put(UInt32(bytes.count))
        bytes.withUnsafeBytes { put(bytes: $0) }
    }
}

extension PackedReader {
    /// Reads a u32 count (of elements or bytes).
    mutating func count() throws(PackedError) -> Int {
        let value: UInt32 = try get()
        return Int(value)
    }
}
