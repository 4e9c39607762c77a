import RetainMoves
public import RetainProto

extension GrowthState {
    /// Every configured task in the period that holds `ms`, with the user's progress.
    public func tasks(userID: String, timeZone: String, at ms: Int64, rules: GrowthRules) -> [Retain_V1_TaskStatus] {
        let user = users[userID]
        let zone = zone(timeZone, of: user)
        return rules.tasks.map { rule in
            let window = TaskWindow(rule.period, at: ms, in: zone)
            return Self.status(rule, progress: user?.task(rule.id, period: window.key), window: window, userID: userID)
        }
    }

    /// Decides a claim of a finished task's reward. Any claim after the first (with any key)
    /// answers the first claim with already_claimed = true.
    ///
    /// - Throws: ``GrowthError`` `.notFound` for an unknown task, `.notStarted` for a period that
    ///   has not started; `.invalid` for a period key of the wrong form; `.keyReused` for a key used
    ///   for another request; `.refused` when the task is not finished or the claim window
    ///   (7 days after the period) has closed; `.moved` when the user moved to another shard.
    public func planClaim(
        _ request: Retain_V1_ClaimTaskRewardRequest, at ms: Int64,
        rules: GrowthRules
    ) throws -> GrowthDecision<Retain_V1_ClaimTaskRewardResponse> {
        try refuseMovedUser(request.userId)
        guard let rule = rules.task(id: request.taskId) else { throw GrowthError.notFound(what: "task", id: request.taskId) }
        let user = users[request.userId]
        let fingerprint = Self.fingerprint(claim: request)
        if let record = user?.keys[request.idempotencyKey] {
            guard record.fingerprint == fingerprint else {
                throw GrowthError.keyReused(
                    "idempotency_key '\(request.idempotencyKey)' was used for a different request of user '\(request.userId)'",
                    field: "idempotency_key")
            }
            var answer = try Retain_V1_ClaimTaskRewardResponse(serializedBytes: record.answer)
            answer.alreadyClaimed = true
            return .unchanged(answer)
        }
        let zone = zone(request.timeZone, of: user)
        let window: TaskWindow
        if request.periodKey.isEmpty {
            window = TaskWindow(rule.period, at: ms, in: zone)
        } else if let parsed = TaskWindow(rule.period, key: request.periodKey, in: zone) {
            window = parsed
        } else {
            let form = rule.period == .daily ? "a local date YYYY-MM-DD" : rule.period == .weekly ? "an ISO week YYYY-Www" : "\"once\""
            throw GrowthError.invalid(
                field: "period_key", reason: "'\(request.periodKey)' is not a period of task '\(rule.id)' (expected \(form))")
        }
        let progress = user?.task(rule.id, period: window.key)
        if let progress, progress.claimedAtMs != 0 {
            var answer = try Retain_V1_ClaimTaskRewardResponse(serializedBytes: progress.claimAnswer)
            answer.alreadyClaimed = true
            return .unchanged(answer)
        }
        let startMs = progress?.periodStartMs ?? window.startMs
        let endMs = progress?.periodEndMs ?? window.endMs
        if endMs != 0, startMs > ms {
            throw GrowthError.notStarted("period '\(window.key)' of task '\(rule.id)' has not started")
        }
        if endMs != 0, ms >= endMs + Self.retention.claimWindowMs {
            throw GrowthError.refused(
                "the claim window of task '\(rule.id)' period '\(window.key)' closed \(Self.retention.claimWindowMs / 86_400_000) days after the period ended"
            )
        }
        guard let progress, progress.completedAtMs != 0 else {
            if endMs != 0, ms >= endMs {
                throw GrowthError.refused("period '\(window.key)' of task '\(rule.id)' is over and the task was never finished")
            }
            throw GrowthError.refused(
                "task '\(rule.id)' is not finished: \(progress?.progress ?? 0) of \(rule.target) in period '\(window.key)'")
        }
        var status = Self.status(rule, progress: progress, window: window, userID: request.userId)
        status.claimed = true
        status.claimedAtMs = ms
        let answer = Retain_V1_ClaimTaskRewardResponse(
            task: status, reward: rule.reward, claimId: status.claimId,
            alreadyClaimed: false)
        let entry = Retain_V1_GrowthTaskClaimed(
            userId: request.userId, taskId: rule.id, periodKey: window.key, idempotencyKey: request.idempotencyKey,
            fingerprint: fingerprint, atMs: ms, answer: answer.serializedBytes())
        return .changed(Retain_V1_GrowthLogEntry(taskClaimed: entry), answer)
    }

    static func fingerprint(claim request: Retain_V1_ClaimTaskRewardRequest) -> UInt64 {
        var hash = Fingerprint()
        hash.combine("claim")
        hash.combine(request.taskId)
        hash.combine(request.periodKey)
        hash.combine(request.timeZone)
        hash.combine(request.atMs)
        return hash.value
    }

    /// Progress that one occurrence of `action` at `ms` makes on the user's tasks, and the
    /// tasks it finishes.
    func advanceTasks(
        _ action: String, of user: UserGrowth?, userID: String, at ms: Int64, zone: LocalZone,
        rules: GrowthRules
    ) -> (progress: [Retain_V1_GrowthTaskProgress], completed: [Retain_V1_TaskStatus]) {
        guard let indices = rules.tasksByAction[action] else { return ([], []) }
        var progress: [Retain_V1_GrowthTaskProgress] = []
        var completed: [Retain_V1_TaskStatus] = []
        for index in indices {
            let rule = rules.tasks[index]
            let window = TaskWindow(rule.period, at: ms, in: zone)
            let current = user?.task(rule.id, period: window.key)
            let count = current?.progress ?? 0
            guard count < rule.target, current?.completedAtMs ?? 0 == 0 else { continue }
            let next = Retain_V1_GrowthTaskProgress(
                taskId: rule.id, periodKey: window.key, periodStartMs: current?.periodStartMs ?? window.startMs,
                periodEndMs: current?.periodEndMs ?? window.endMs, progress: count + 1,
                completedAtMs: count + 1 >= rule.target ? ms : 0)
            progress.append(next)
            if next.completedAtMs != 0 {
                completed.append(Self.status(rule, progress: next, window: window, userID: userID))
            }
        }
        return (progress, completed)
    }

    /// A task's status in `window` from the user's progress.
    static func status(
        _ rule: GrowthRules.TaskRule, progress: Retain_V1_GrowthTaskProgress?, window: TaskWindow,
        userID: String
    ) -> Retain_V1_TaskStatus {
        let completedAt = progress?.completedAtMs ?? 0
        return Retain_V1_TaskStatus(
            taskId: rule.id, title: rule.title, action: rule.action, period: rule.period, target: rule.target,
            progress: min(progress?.progress ?? 0, rule.target), completed: completedAt != 0,
            claimed: (progress?.claimedAtMs ?? 0) != 0, periodKey: window.key,
            periodStartMs: progress?.periodStartMs ?? window.startMs, periodEndMs: progress?.periodEndMs ?? window.endMs,
            reward: rule.reward, completedAtMs: completedAt, claimedAtMs: progress?.claimedAtMs ?? 0,
            claimId: completedAt != 0 ? "task:\(userID):\(rule.id):\(window.key)" : "")
    }
}
