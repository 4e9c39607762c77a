import RetainProto

/// Everything Growth keeps about one user. Lists hold the storage proto types directly, so a
/// snapshot record is the same values.
struct UserGrowth: Sendable {
    /// Total growth.
    var total: Int64 = 0
    /// When the total was reached, Unix ms (leaderboard tie order).
    var reachedAtMs: Int64 = 0
    /// The last time zone the user gave; empty means UTC.
    var timeZone: String = ""
    /// The last local day checked in; meaningful when `streak > 0`.
    var lastCheckInDay: Int32 = 0
    /// The streak as of the last check-in; 0 when the user never checked in.
    var streak: UInt32 = 0
    /// The longest streak ever.
    var longestStreak: UInt32 = 0
    /// The level recorded by the last write (level-change events compare with it). Beside the
    /// other 32-bit fields, so the record has no padding (it is held once per user).
    var level: UInt32 = 1
    /// Growth of history records dropped past the retention.
    var prunedGrowth: Int64 = 0
    /// Counters of the recent local days, oldest first.
    var days = InlineFirstList<DayCounter>()
    /// Task progress in recent periods.
    var tasks = InlineFirstList<Retain_V1_GrowthTaskProgress>()
    /// Remembered idempotency keys (awards and claims) with their first answers.
    var keys = IdempotencyKeys()
    /// History ordered by time.
    var history: [Retain_V1_GrowthHistoryRecord] = []
    /// Growth per retained UTC ISO week.
    var weeks = InlineFirstList<Retain_V1_GrowthWeekScore>()
    /// The user's level changes, oldest first.
    var levelChanges: [Retain_V1_LevelChangeEvent] = []
    /// The time of the latest keep-up review, Unix ms (0: never reviewed).
    var reviewedAtMs: Int64 = 0

    init() {}

    /// The user of a snapshot record (or of a record moved from another shard).
    init(_ record: Retain_V1_GrowthUserRecord) {
        total = record.totalGrowth
        reachedAtMs = record.reachedAtMs
        level = record.level
        timeZone = record.timeZone
        lastCheckInDay = record.lastCheckInDay
        streak = record.streakDays
        longestStreak = record.longestStreak
        prunedGrowth = record.prunedGrowth
        days = InlineFirstList(record.days.map(DayCounter.init))
        tasks = InlineFirstList(record.tasks)
        keys = IdempotencyKeys(record.keys)
        history = record.history
        weeks = InlineFirstList(record.weeks)
        levelChanges = record.levelChanges
        reviewedAtMs = record.reviewedAtMs
    }

    /// The user's snapshot record: everything Growth keeps about it.
    func record(_ userID: String) -> Retain_V1_GrowthUserRecord {
        Retain_V1_GrowthUserRecord(
            userId: userID, totalGrowth: total, reachedAtMs: reachedAtMs, level: level, timeZone: timeZone,
            lastCheckInDay: lastCheckInDay, streakDays: streak, longestStreak: longestStreak, prunedGrowth: prunedGrowth,
            days: days.map(\.record), tasks: Array(tasks), keys: keys.records, history: history, weeks: Array(weeks),
            levelChanges: levelChanges,
            reviewedAtMs: reviewedAtMs)
    }

    /// The user's row on the overall board.
    func boardKey(_ userID: String) -> LeaderboardKey {
        LeaderboardKey(score: total, reachedAtMs: reachedAtMs, userID: userID)
    }

    // MARK: Day counters

    /// The counter of `day`, if the user has one.
    func counter(day: Int32) -> DayCounter? {
        days.last(where: { $0.localDay == day })
    }

    /// The newest local day with a counter.
    var newestDay: Int32? { days.last?.localDay }

    /// Adds growth to the counter of `day`: award growth (subject to the caps, by action) and
    /// growth of any kind.
    mutating func count(day: Int32, action: String?, awardGrowth: Int64, allGrowth: Int64) {
        let index: Int
        if let found = days.lastIndex(where: { $0.localDay == day }) {
            index = found
        } else {
            let position = days.firstIndex(where: { $0.localDay > day }) ?? days.endIndex
            days.insert(DayCounter(localDay: day), at: position)
            index = position
        }
        days[index].awardGrowth += awardGrowth
        days[index].allGrowth += allGrowth
        if let action { days[index].add(awardGrowth, to: action) }
    }

    // MARK: Tasks

    /// The progress of `taskID` in the period `periodKey`.
    func task(_ taskID: String, period periodKey: String) -> Retain_V1_GrowthTaskProgress? {
        tasks.first(where: { $0.taskId == taskID && $0.periodKey == periodKey })
    }

    /// Stores task progress; returns true when it finishes the task (it was not finished).
    @discardableResult
    mutating func store(_ progress: Retain_V1_GrowthTaskProgress) -> Bool {
        if let index = tasks.firstIndex(where: { $0.taskId == progress.taskId && $0.periodKey == progress.periodKey }) {
            let finishes = tasks[index].completedAtMs == 0 && progress.completedAtMs != 0
            tasks[index].progress = progress.progress
            tasks[index].completedAtMs = progress.completedAtMs
            tasks[index].periodStartMs = progress.periodStartMs
            tasks[index].periodEndMs = progress.periodEndMs
            return finishes
        }
        tasks.append(progress)
        return progress.completedAtMs != 0
    }

    // MARK: History

    /// Adds a history record, keeping the history ordered by time (a late record goes after
    /// the records of the same time).
    mutating func record(_ record: Retain_V1_GrowthHistoryRecord) {
        if let last = history.last, last.atMs > record.atMs {
            var low = 0
            var high = history.count
            while low < high {
                let middle = (low + high) / 2
                if history[middle].atMs <= record.atMs { low = middle + 1 } else { high = middle }
            }
            history.insert(record, at: low)
        } else {
            history.append(record)
        }
    }

    /// The index of the first history record at or after `ms`.
    func historyIndex(from ms: Int64) -> Int {
        var low = 0
        var high = history.count
        while low < high {
            let middle = (low + high) / 2
            if history[middle].atMs < ms { low = middle + 1 } else { high = middle }
        }
        return low
    }

    // MARK: Weeks

    /// The growth earned in the UTC week starting on `monday`.
    func weekScore(_ monday: Int32) -> Retain_V1_GrowthWeekScore? {
        weeks.last(where: { $0.week == monday })
    }

    // MARK: Retention

    /// Drops what is older than the retention: history (its growth kept in `prunedGrowth`),
    /// day counters and task periods past their claim window as of `now` (the time of the
    /// write), and — every 32 keys — idempotency keys expired as of `keysNow` (the server's
    /// clock, which retries follow).
    mutating func prune(now: Int64, keysNow: Int64, retention: GrowthState.Retention) {
        let historyCutoff = now - retention.historyMs
        if let first = history.first, first.atMs < historyCutoff {
            let end = historyIndex(from: historyCutoff)
            for record in history[..<end] { prunedGrowth += record.growth }
            history.removeSubrange(..<end)
        }
        if let newest = newestDay, let first = days.first, first.localDay < newest - retention.dayCounterDays {
            days.removeAll { $0.localDay < newest - retention.dayCounterDays }
        }
        let taskCutoff = now - retention.claimWindowMs
        if tasks.contains(where: { $0.periodEndMs != 0 && $0.periodEndMs < taskCutoff }) {
            tasks.removeAll { $0.periodEndMs != 0 && $0.periodEndMs < taskCutoff }
        }
        if keys.count >= 32, keys.count % 32 == 0 {
            let keyCutoff = keysNow - retention.idempotencyKeyMs
            keys.removeRecorded(before: keyCutoff)
        }
    }
}
