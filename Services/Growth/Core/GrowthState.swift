public import RetainMoves
public import RetainProto
public import RetainRuleSets
public import RetainState
public import RetainWebhooks

/// Growth's whole state: users, the overall and weekly leaderboards, and the level-change event
/// log. Changes come only through ``apply(_:)`` of log entries that the `plan` methods decide,
/// so a restart replays to the same state.
public struct GrowthState: PersistentState, RuleSetKeeping {
    public typealias LogEntry = Retain_V1_GrowthLogEntry

    /// How long the state keeps what it does not need forever.
    public struct Retention: Sendable {
        /// Idempotency keys are remembered for this long after their first use. Default 7 days.
        public var idempotencyKeyMs: Int64 = 7 * 86_400_000
        /// History (for summaries) is kept this long; older growth is kept as one sum. Default 400 days.
        public var historyMs: Int64 = 400 * 86_400_000
        /// Day counters (for caps) are kept for this many days before the user's newest one.
        /// Default 7: awards for older days are refused.
        public var dayCounterDays: Int32 = 7
        /// A finished task period can be claimed this long after it ends. Default 7 days.
        public var claimWindowMs: Int64 = 7 * 86_400_000
        /// Weekly leaderboards kept, the newest week included. Default 12.
        public var weeklyBoards: Int32 = 12
        /// Level-change events kept for followers. Default 1,000,000.
        public var events: Int = 1_000_000

        public init() {}
    }

    /// The retention every state uses.
    public static let retention = Retention()

    /// Identifies the event log (empty until the first ``Retain_V1_GrowthStreamStarted``).
    public internal(set) var streamID = ""
    var users = UserTable()
    var overall = Leaderboard()
    var weekly: [Int32: Leaderboard] = [:]
    /// The newest UTC week (its Monday) with growth; weekly boards older than the retention go.
    var newestWeek: Int32 = .min
    /// Retained level-change events, oldest first.
    var events = RetainedEvents()
    var nextEventPosition: UInt64 = 1
    /// Users moving between shards (RetainMoves): the users fenced here, and which ring versions
    /// this shard's reports are right for. Changed only by `usersMoved` log entries.
    public var fences = UserFences()
    /// Webhook subscriptions and the deliveries of level-change events (docs/WEBHOOKS.md).
    public internal(set) var webhooks = WebhookOutbox()
    /// The growth rules' versions (retain.v1.RuleSets, docs/CONFIG.md): every write decides with
    /// the version in force at its clock time.
    public internal(set) var ruleSets = RuleSetHistory<GrowthRules>()

    public init() {}

    /// The rules a write at the clock time `now` decides with: the version in force, or
    /// `fallback` (the configuration file's rules) before the first version is stored.
    public func rules(now: Int64, fallback: GrowthRules) -> GrowthRules {
        ruleSets.rulesForDecision(now: now, fallback: fallback)
    }

    public func ruleSetEntry(_ version: Retain_V1_RuleSetVersion) -> Retain_V1_GrowthLogEntry {
        Retain_V1_GrowthLogEntry(ruleSetVersion: version)
    }

    /// Users with a growth record.
    public var userCount: Int { users.count }

    /// Position of the newest level-change event; 0 when there is none.
    public var headPosition: UInt64 { nextEventPosition - 1 }

    /// Position of the oldest retained event (head + 1 when none is retained).
    public var firstRetainedPosition: UInt64 { nextEventPosition - UInt64(events.count) }

    /// Retained events with `after < position <= upTo`, at most `limit`.
    public func events(after: UInt64, upTo: UInt64, limit: Int) -> [Retain_V1_LevelChangeEvent] {
        let first = firstRetainedPosition
        let start = max(after + 1, first)
        let end = min(upTo, headPosition)
        guard start <= end else { return [] }
        let lower = Int(start - first)
        let upper = min(Int(end - first) + 1, lower + limit)
        return events[lower..<upper]
    }

    /// The Monday of the oldest weekly board kept.
    var oldestKeptWeek: Int32 {
        newestWeek == .min ? .min : newestWeek - (Self.retention.weeklyBoards - 1) * 7
    }

    // MARK: Applying log entries

    public mutating func apply(_ entry: Retain_V1_GrowthLogEntry) throws {
        if let started = entry.streamStarted {
            guard streamID.isEmpty else { throw GrowthError.refused("the event log was started already") }
            guard !started.streamId.isEmpty else { throw GrowthError.malformedEntry("stream_started without a stream id") }
            streamID = started.streamId
        } else if let awarded = entry.awarded {
            try apply(awarded)
        } else if let checkedIn = entry.checkedIn {
            try apply(checkedIn)
        } else if let claimed = entry.taskClaimed {
            try apply(claimed)
        } else if let moved = entry.usersMoved {
            try applyMoves(
                UserMoves(
                    imported: moved.imported, fenced: moved.fenced, unfenced: moved.unfenced, dropped: moved.dropped,
                    ringVersion: moved.ringVersion, discarded: moved.discarded))
        } else if let change = entry.webhook {
            try webhooks.apply(change)
        } else if let reviews = entry.levelReviews {
            try apply(reviews)
        } else if let version = entry.ruleSetVersion {
            do {
                try ruleSets.apply(version)
            } catch {
                throw GrowthError.malformedEntry(error.description)
            }
        } else {
            throw GrowthError.malformedEntry("a growth log entry with no change")
        }
    }

    private mutating func apply(_ entry: Retain_V1_GrowthAwarded) throws {
        guard !entry.userId.isEmpty, !entry.idempotencyKey.isEmpty, entry.awardedGrowth >= 0 else {
            throw GrowthError.malformedEntry("an award without user, key or with negative growth")
        }
        guard users.withUser(entry.userId, { $0.keys.contains(entry.idempotencyKey) }) != true else {
            throw GrowthError.keyReused("award key '\(entry.idempotencyKey)' of user '\(entry.userId)' was used already")
        }
        var user = users.take(entry.userId)
        defer { users.put(entry.userId, user) }
        let oldKey = user.boardKey(entry.userId)
        if !entry.timeZone.isEmpty { user.timeZone = entry.timeZone }
        user.keys.insert(
            Retain_V1_GrowthIdempotencyRecord(
                key: entry.idempotencyKey, fingerprint: entry.fingerprint, recordedAtMs: entry.recordedAtMs, answer: entry.answer))
        user.count(day: entry.localDay, action: entry.action, awardGrowth: entry.awardedGrowth, allGrowth: entry.awardedGrowth)
        user.record(Retain_V1_GrowthHistoryRecord(atMs: entry.atMs, kind: .award, action: entry.action, growth: entry.awardedGrowth))
        addGrowth(entry.awardedGrowth, at: entry.atMs, to: &user, userID: entry.userId)
        store(entry.tasks, at: entry.atMs, in: &user)
        recordLevel(
            entry.toLevel, name: entry.toLevelName, of: &user, userID: entry.userId, at: entry.atMs,
            loggedAt: entry.recordedAtMs != 0 ? entry.recordedAtMs : entry.atMs, cause: entry.action, key: entry.idempotencyKey)
        user.prune(now: entry.atMs, keysNow: entry.recordedAtMs, retention: Self.retention)
        overall.update(from: oldKey, to: user.boardKey(entry.userId))
    }

    private mutating func apply(_ entry: Retain_V1_GrowthCheckedIn) throws {
        guard !entry.userId.isEmpty, entry.baseGrowth >= 0, entry.bonusGrowth >= 0, entry.streakDays >= 1 else {
            throw GrowthError.malformedEntry("a check-in without user, with negative growth or no streak")
        }
        if let user = users[entry.userId], user.streak > 0, entry.localDay <= user.lastCheckInDay {
            throw GrowthError.refused("user '\(entry.userId)' checked in on day \(user.lastCheckInDay) already")
        }
        guard entry.idempotencyKey.isEmpty || users.withUser(entry.userId, { $0.keys.contains(entry.idempotencyKey) }) != true else {
            throw GrowthError.keyReused("check-in key '\(entry.idempotencyKey)' of user '\(entry.userId)' was used already")
        }
        var user = users.take(entry.userId)
        defer { users.put(entry.userId, user) }
        let oldKey = user.boardKey(entry.userId)
        let growth = entry.baseGrowth + entry.bonusGrowth
        if !entry.timeZone.isEmpty { user.timeZone = entry.timeZone }
        let keysNow = entry.recordedAtMs != 0 ? entry.recordedAtMs : entry.atMs
        if !entry.idempotencyKey.isEmpty {
            user.keys.insert(
                Retain_V1_GrowthIdempotencyRecord(
                    key: entry.idempotencyKey, fingerprint: entry.fingerprint, recordedAtMs: keysNow, answer: entry.answer))
        }
        user.lastCheckInDay = entry.localDay
        user.streak = entry.streakDays
        user.longestStreak = max(user.longestStreak, entry.streakDays)
        user.count(day: entry.localDay, action: nil, awardGrowth: 0, allGrowth: growth)
        user.record(
            Retain_V1_GrowthHistoryRecord(
                atMs: entry.atMs, kind: .checkIn, action: GrowthState.checkInAction, growth: growth,
                localDay: entry.localDay))
        addGrowth(growth, at: entry.atMs, to: &user, userID: entry.userId)
        store(entry.tasks, at: entry.atMs, in: &user)
        recordLevel(
            entry.toLevel, name: entry.toLevelName, of: &user, userID: entry.userId, at: entry.atMs, loggedAt: keysNow,
            cause: GrowthState.checkInAction, key: "check_in:" + CivilDate.string(entry.localDay))
        user.prune(now: entry.atMs, keysNow: keysNow, retention: Self.retention)
        overall.update(from: oldKey, to: user.boardKey(entry.userId))
    }

    private mutating func apply(_ entry: Retain_V1_GrowthTaskClaimed) throws {
        guard let found = users[entry.userId],
            let index = found.tasks.firstIndex(where: { $0.taskId == entry.taskId && $0.periodKey == entry.periodKey }),
            found.tasks[index].completedAtMs != 0, found.tasks[index].claimedAtMs == 0
        else {
            throw GrowthError.refused("task '\(entry.taskId)' period '\(entry.periodKey)' of user '\(entry.userId)' is not claimable")
        }
        guard !found.keys.contains(entry.idempotencyKey) else {
            throw GrowthError.keyReused("claim key '\(entry.idempotencyKey)' of user '\(entry.userId)' was used already")
        }
        var user = users.take(entry.userId)
        defer { users.put(entry.userId, user) }
        user.tasks[index].claimedAtMs = entry.atMs
        user.tasks[index].claimAnswer = entry.answer
        user.keys.insert(
            Retain_V1_GrowthIdempotencyRecord(
                key: entry.idempotencyKey, fingerprint: entry.fingerprint, recordedAtMs: entry.atMs, answer: entry.answer))
        user.record(Retain_V1_GrowthHistoryRecord(atMs: entry.atMs, kind: .taskClaimed, action: entry.taskId, growth: 0))
    }

    /// The action name check-ins count as, for tasks and summaries.
    public static let checkInAction = "check_in"

    // MARK: Shared steps

    /// Adds growth to the total and to the week of `at` (overall board updated by the caller).
    private mutating func addGrowth(_ growth: Int64, at ms: Int64, to user: inout UserGrowth, userID: String) {
        guard growth > 0 else { return }
        user.total += growth
        user.reachedAtMs = max(user.reachedAtMs, ms)
        let week = CivilDate.monday(of: CivilDate.utcDay(ms: ms))
        if week > newestWeek {
            newestWeek = week
            let oldest = oldestKeptWeek
            if weekly.keys.contains(where: { $0 < oldest }) {
                weekly = weekly.filter { $0.key >= oldest }
            }
        }
        let oldest = oldestKeptWeek
        if let first = user.weeks.first, first.week < oldest {
            user.weeks.removeAll { $0.week < oldest }
        }
        guard week >= oldest else { return }
        let index = user.weeks.lastIndex(where: { $0.week == week })
        let old = index.map { user.weeks[$0] }
        let new = Retain_V1_GrowthWeekScore(
            week: week, score: (old?.score ?? 0) + growth,
            reachedAtMs: max(old?.reachedAtMs ?? .min, ms))
        if let index { user.weeks[index] = new } else { user.weeks.append(new) }
        weekly[week, default: Leaderboard()].update(
            from: old.map { LeaderboardKey(score: $0.score, reachedAtMs: $0.reachedAtMs, userID: userID) },
            to: LeaderboardKey(score: new.score, reachedAtMs: new.reachedAtMs, userID: userID))
    }

    private func store(_ tasks: [Retain_V1_GrowthTaskProgress], at ms: Int64, in user: inout UserGrowth) {
        for progress in tasks where user.store(progress) {
            user.record(Retain_V1_GrowthHistoryRecord(atMs: ms, kind: .taskCompleted, action: progress.taskId, growth: 0))
        }
    }

    /// Records the level a write reached; a higher one than before is a level-change event,
    /// queued for the webhooks as logged at `loggedAt` (the server's clock).
    mutating func recordLevel(
        _ level: UInt32, name: String, of user: inout UserGrowth, userID: String,
        at ms: Int64, loggedAt: Int64, cause: String, key: String, announceLower: Bool = false
    ) {
        guard level != 0, level != user.level else { return }
        let from = user.level
        user.level = level
        // A lower level follows a configuration change (recorded without an event) or a keep-up
        // review (`announceLower`: an event like any other).
        guard level > from || announceLower else { return }
        let event = Retain_V1_LevelChangeEvent(
            position: nextEventPosition, userId: userID, fromLevel: from, toLevel: level, toLevelName: name,
            totalGrowth: user.total, atMs: ms, causeAction: cause, causeKey: key)
        nextEventPosition += 1
        webhooks.enqueue(Self.levelChangeWebhook(event, streamID: streamID, loggedAt: loggedAt), service: Self.webhookService)
        events.append(event)
        user.levelChanges.append(event)
        if events.count > Self.retention.events {
            events.removeFirst(max(1, Self.retention.events / 10))
        }
    }
}
