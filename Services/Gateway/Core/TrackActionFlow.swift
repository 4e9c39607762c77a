public import RetainProto

/// Gateway.TrackAction: records the activity, awards growth, claims the tasks the award
/// finished and pays their rewards, and pays level-up rewards. The event id is the activity's
/// event id and the award's idempotency key; task rewards pay under the claim ids Growth gives
/// and level rewards under `level:<user>:<level>`, so a retry repeats nothing it finished.
public struct TrackActionFlow: Sendable {
    let backend: any FlowBackend
    let configuration: FlowConfiguration

    public init(backend: any FlowBackend, configuration: FlowConfiguration) {
        self.backend = backend
        self.configuration = configuration
    }

    /// Runs the flow; `now` is the gateway's clock in Unix ms.
    public func run(_ request: Retain_V1_TrackActionRequest, now: Int64) async throws -> Retain_V1_TrackActionResponse {
        try FlowValidation.entityID(request.userId, field: "user_id")
        try FlowValidation.key(request.eventId, field: "event_id")
        try FlowValidation.name(request.action, field: "action")
        if request.action == "purchase" {
            guard let value = request.value, value.value > 0 else {
                throw FlowError.invalid(field: "value", reason: "a purchase needs its value (value > 0)")
            }
        }
        if let value = request.value, value.value < 0 {
            throw FlowError.invalid(field: "value.value", reason: "must not be negative")
        }
        let user = request.userId
        let payer = LedgerPayer(backend: backend, configuration: configuration)
        var steps = FlowSteps()
        var response = Retain_V1_TrackActionResponse()

        // 1. The activity (a repeat of the event id is a DUPLICATE and changes nothing).
        let activity = try await backend.call(Retain_V1_Profile.recordActivity, Retain_V1_RecordActivityRequest(
            userId: user, eventId: request.eventId, kind: request.action, occurredAtMs: request.occurredAtMs,
            value: request.value, source: request.source, properties: request.properties), .write(key: request.eventId))
        steps.ran("profile.record_activity", replayed: activity.outcome == .duplicate, "stage \(activity.stage)")
        response.activity = activity

        // 2. Growth, idempotent by the event id.
        let growth = try await backend.call(Retain_V1_Growth.awardGrowth, Retain_V1_AwardGrowthRequest(
            userId: user, action: request.action, idempotencyKey: request.eventId, value: request.value?.value ?? 0,
            occurredAtMs: request.occurredAtMs, timeZone: request.timeZone), .write(key: request.eventId))
        steps.ran("growth.award", replayed: growth.replayed,
                  "\(request.action): \(growth.awardedGrowth) growth, level \(growth.level)")
        response.growth = growth

        // Lots expire counted from the action's time, or from the start of today (UTC) when the
        // action has none, so that a retry later the same day computes the same body.
        let base = request.occurredAtMs != 0 ? request.occurredAtMs : now - now % 86_400_000
        let metadata = ["flow": "track_action", "event_id": request.eventId]

        // 3. Tasks the award finished: claim (once per task and period), then pay the claim.
        for task in growth.completedTasks {
            let key = task.claimId.isEmpty ? FlowKeys.derive("claim:\(task.taskId):\(task.periodKey):", request.eventId) : task.claimId
            let claim = try await backend.call(Retain_V1_Growth.claimTaskReward, Retain_V1_ClaimTaskRewardRequest(
                userId: user, taskId: task.taskId, periodKey: task.periodKey, idempotencyKey: key,
                timeZone: request.timeZone), .write(key: key))
            steps.ran("growth.claim_task", replayed: claim.alreadyClaimed, "task \(task.taskId) (\(task.periodKey))")
            response.tasksRewarded.append(claim.task ?? task)
            guard let reward = claim.reward, reward.value > 0 else {
                steps.add("ledger.task_reward", .skipped, "task \(task.taskId) has no reward")
                continue
            }
            let transfer = LedgerPayer.reward(
                id: claim.claimId.isEmpty ? key : claim.claimId, user: user,
                reward: FlowConfiguration.Reward(value: reward.value, asset: reward.asset),
                budget: configuration.taskRewards.budget, kind: .taskReward,
                expiresAtMs: LedgerPayer.expiry(base: base, days: configuration.taskRewards.expiresAfterDays, now: now),
                reason: "task \(task.taskId) (\(task.periodKey))", metadata: metadata)
            switch try await payer.pay(transfer) {
            case .paid(let result, let replayed, let detail):
                response.taskRewards.append(result)
                steps.ran("ledger.task_reward", replayed: replayed, detail)
            case .refused(let result):
                throw FlowError.paymentRefused(
                    "task reward \(transfer.transferId) refused by the ledger: \(result.code) \(result.message); the claim stands and a retry pays it once the budget '\(configuration.taskRewards.budget)' is raised",
                    result: result.code)
            }
        }

        // 4. Level-up rewards.
        if growth.levelledUp {
            response.levelRewards = try await payer.payLevelRewards(
                user: user, fromLevel: growth.fromLevel, toLevel: growth.toLevel, base: base, now: now,
                eventID: request.eventId, flow: "track_action", steps: &steps)
        }
        response.steps = steps.steps
        response.replayed = steps.replayed
        return response
    }
}
