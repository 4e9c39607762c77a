import RetainMoves
public import RetainProto

extension GrowthState {
    /// Decides a check-in request at `ms` (its resolved `at_ms`): a retry with an idempotency
    /// key remembered for the user answers the first answer (replayed = true), whatever day it
    /// is now; otherwise as ``planCheckIn(userID:timeZone:at:rules:)``, remembering the key with
    /// the answer when the check-in changes anything.
    ///
    /// - Parameters:
    ///   - request: the validated request.
    ///   - ms: when the check-in counts.
    ///   - now: the server's clock, for key retention.
    ///   - rules: the configuration.
    /// - Throws: ``GrowthError/keyReused(_:field:)`` when the key was used for a different
    ///   request (another check-in body, or an award or claim); `.moved` when the user moved to
    ///   another shard.
    public func planCheckIn(
        _ request: Retain_V1_CheckInRequest, at ms: Int64, now: Int64,
        rules: GrowthRules
    ) throws -> GrowthDecision<Retain_V1_CheckInResponse> {
        try refuseMovedUser(request.userId)
        let key = request.idempotencyKey
        guard !key.isEmpty else {
            return planCheckIn(userID: request.userId, timeZone: request.timeZone, at: ms, rules: rules)
        }
        let fingerprint = Self.fingerprint(checkIn: request)
        if let record = users[request.userId]?.keys[key] {
            guard record.fingerprint == fingerprint else {
                throw GrowthError.keyReused(
                    "idempotency_key '\(key)' was used for a different request of user '\(request.userId)'", field: "idempotency_key")
            }
            var answer = try Retain_V1_CheckInResponse(serializedBytes: record.answer)
            answer.replayed = true
            return .unchanged(answer)
        }
        let decision = planCheckIn(userID: request.userId, timeZone: request.timeZone, at: ms, rules: rules)
        guard case .changed(var entry, let answer) = decision, var checkedIn = entry.checkedIn else { return decision }
        checkedIn.idempotencyKey = key
        checkedIn.fingerprint = fingerprint
        checkedIn.recordedAtMs = now
        checkedIn.answer = answer.serializedBytes()
        entry.checkedIn = checkedIn
        return .changed(entry, answer)
    }

    /// Identifies a check-in request's body, so that a reused key with another body (or a key
    /// of an award) is told apart from a retry.
    static func fingerprint(checkIn request: Retain_V1_CheckInRequest) -> UInt64 {
        var hash = Fingerprint()
        hash.combine("check_in")
        hash.combine(request.atMs)
        hash.combine(request.timeZone)
        return hash.value
    }

    /// Decides a check-in at `ms`: the first of a local day extends the streak (or restarts it
    /// at 1 after a missed day) and awards the configured growth and streak bonus; a second one
    /// on the same day — or one for a day before the latest check-in, after a time-zone change
    /// — answers already_checked_in and changes nothing.
    public func planCheckIn(
        userID: String, timeZone: String, at ms: Int64,
        rules: GrowthRules
    ) -> GrowthDecision<Retain_V1_CheckInResponse> {
        let user = users[userID]
        let zone = zone(timeZone, of: user)
        let day = zone.day(at: ms)
        if let user, user.streak > 0, day <= user.lastCheckInDay {
            let level = rules.level(for: user.total)
            return .unchanged(
                Retain_V1_CheckInResponse(
                    alreadyCheckedIn: true, localDate: CivilDate.string(day), streakDays: user.streak,
                    longestStreak: user.longestStreak, totalGrowth: user.total, level: level,
                    levelName: rules.tier(level: level).name, fromLevel: level, toLevel: level))
        }
        let streak: UInt32
        if let user, user.streak > 0, day == user.lastCheckInDay + 1 {
            streak = user.streak + 1
        } else {
            streak = 1
        }
        let base = rules.checkInGrowth
        let bonus = rules.streakBonus(days: streak)
        let fromLevel = user?.level ?? 1
        let total = (user?.total ?? 0) + base + bonus
        let toLevel = rules.level(for: total)
        let levelName = rules.tier(level: toLevel).name
        let levelledUp = toLevel > fromLevel
        let tasks = advanceTasks(Self.checkInAction, of: user, userID: userID, at: ms, zone: zone, rules: rules)
        let answer = Retain_V1_CheckInResponse(
            alreadyCheckedIn: false, localDate: CivilDate.string(day), streakDays: streak,
            longestStreak: max(user?.longestStreak ?? 0, streak), baseGrowth: base, bonusGrowth: bonus,
            awardedGrowth: base + bonus, totalGrowth: total, level: toLevel, levelName: levelName,
            levelledUp: levelledUp, fromLevel: levelledUp ? fromLevel : toLevel, toLevel: toLevel,
            levelEventPosition: levelledUp ? nextEventPosition : 0, completedTasks: tasks.completed)
        let entry = Retain_V1_GrowthCheckedIn(
            userId: userID, atMs: ms, localDay: day, timeZone: timeZone, baseGrowth: base, bonusGrowth: bonus,
            streakDays: streak, toLevel: toLevel, toLevelName: levelName, tasks: tasks.progress)
        return .changed(Retain_V1_GrowthLogEntry(checkedIn: entry), answer)
    }
}
