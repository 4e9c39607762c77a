import RetainMoves
public import RetainProto

extension GrowthState {
    /// Decides an award: a retry answers the first answer (replayed = true); otherwise the
    /// configured growth, cut by the action's and the total daily cap of the local day of `ms`,
    /// the level reached and the tasks advanced.
    ///
    /// - Parameters:
    ///   - request: the validated request.
    ///   - ms: when the action counts (the resolved `occurred_at_ms`).
    ///   - now: the server's clock, for key retention.
    ///   - rules: the configuration.
    /// - Throws: ``GrowthError/keyReused(_:field:)`` when the key was used for a different award; `.invalid`
    ///   when `ms` falls before the day counters kept for the user; `.moved` when the user moved
    ///   to another shard.
    public func planAward(
        _ request: Retain_V1_AwardGrowthRequest, at ms: Int64, now: Int64,
        rules: GrowthRules
    ) throws -> GrowthDecision<Retain_V1_AwardGrowthResponse> {
        try refuseMovedUser(request.userId)
        let user = users[request.userId]
        let fingerprint = Self.fingerprint(award: request)
        if let record = user?.keys[request.idempotencyKey] {
            guard record.fingerprint == fingerprint else {
                throw GrowthError.keyReused(
                    "idempotency_key '\(request.idempotencyKey)' was used for a different request of user '\(request.userId)'",
                    field: "idempotency_key")
            }
            var answer = try Retain_V1_AwardGrowthResponse(serializedBytes: record.answer)
            answer.replayed = true
            return .unchanged(answer)
        }
        let zone = zone(request.timeZone, of: user)
        let day = zone.day(at: ms)
        if let newest = user?.newestDay, day < newest - Self.retention.dayCounterDays {
            throw GrowthError.invalid(
                field: "occurred_at_ms",
                reason:
                    "falls on \(CivilDate.string(day)), more than \(Self.retention.dayCounterDays) days before the user's latest activity (\(CivilDate.string(newest)))"
            )
        }
        let counter = user?.counter(day: day)
        let requested: Int64
        var awarded: Int64
        var limit = Retain_V1_AwardLimitReason.unspecified
        if let rule = rules.actions[request.action] {
            requested = rule.growth(forValue: request.value)
            let actionRoom = rule.dailyCap.map { max(0, $0 - (counter?.growth(of: request.action) ?? 0)) } ?? .max
            let totalRoom = rules.dailyTotalCap.map { max(0, $0 - (counter?.awardGrowth ?? 0)) } ?? .max
            awarded = requested
            if requested > min(actionRoom, totalRoom) {
                awarded = min(actionRoom, totalRoom)
                limit = actionRoom <= totalRoom ? .actionDailyCap : .totalDailyCap
            }
        } else {
            requested = 0
            awarded = 0
            limit = .noRule
        }
        let fromLevel = user?.level ?? 1
        let total = (user?.total ?? 0) + awarded
        let toLevel = rules.level(for: total)
        let levelName = rules.tier(level: toLevel).name
        let levelledUp = toLevel > fromLevel
        let tasks = advanceTasks(request.action, of: user, userID: request.userId, at: ms, zone: zone, rules: rules)
        let answer = Retain_V1_AwardGrowthResponse(
            awardedGrowth: awarded, requestedGrowth: requested, limit: limit, totalGrowth: total, level: toLevel,
            levelName: levelName, levelledUp: levelledUp, fromLevel: levelledUp ? fromLevel : toLevel, toLevel: toLevel,
            levelEventPosition: levelledUp ? nextEventPosition : 0, completedTasks: tasks.completed,
            todayGrowth: (counter?.allGrowth ?? 0) + awarded, localDate: CivilDate.string(day), replayed: false)
        let entry = Retain_V1_GrowthAwarded(
            userId: request.userId, idempotencyKey: request.idempotencyKey, fingerprint: fingerprint,
            action: request.action, atMs: ms, recordedAtMs: now, localDay: day, timeZone: request.timeZone,
            awardedGrowth: awarded, toLevel: toLevel, toLevelName: levelName, tasks: tasks.progress,
            answer: answer.serializedBytes())
        return .changed(Retain_V1_GrowthLogEntry(awarded: entry), answer)
    }

    /// Identifies an award request's body, so that a reused key with another body is told
    /// apart from a retry.
    static func fingerprint(award request: Retain_V1_AwardGrowthRequest) -> UInt64 {
        var hash = Fingerprint()
        hash.combine("award")
        hash.combine(request.action)
        hash.combine(request.value)
        hash.combine(request.occurredAtMs)
        hash.combine(request.timeZone)
        return hash.value
    }

    /// The zone a request works in: the one it names, else the user's last, else UTC.
    func zone(_ requested: String, of user: UserGrowth?) -> LocalZone {
        if !requested.isEmpty, let zone = LocalZone.named(requested) { return zone }
        if let stored = user?.timeZone, !stored.isEmpty, let zone = LocalZone.named(stored) { return zone }
        return .utc
    }
}
