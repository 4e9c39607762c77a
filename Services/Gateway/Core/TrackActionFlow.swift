public import RetainProto
public import RetainFlowRules

/// Gateway.TrackAction: records the activity, awards growth, claims the tasks the award
/// finished and pays their rewards, pays level-up rewards, and pays the referral when the action
/// qualifies the user's inviter for it (``ReferralPayer``). The event id is the activity's
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
        let activity = try await backend.call(
            Retain_V1_Profile.recordActivity,
            Retain_V1_RecordActivityRequest(
                userId: user, eventId: request.eventId, kind: request.action, occurredAtMs: request.occurredAtMs,
                value: request.value, source: request.source, properties: request.properties), .write(key: request.eventId))
        steps.ran("profile.record_activity", replayed: activity.outcome == .duplicate, "stage \(activity.stage)")
        response.activity = activity

        // 2. Growth, idempotent by the event id.
        let growth = try await backend.call(
            Retain_V1_Growth.awardGrowth,
            Retain_V1_AwardGrowthRequest(
                userId: user, action: request.action, idempotencyKey: request.eventId, value: request.value?.value ?? 0,
                occurredAtMs: request.occurredAtMs, timeZone: request.timeZone), .write(key: request.eventId))
        steps.ran(
            "growth.award", replayed: growth.replayed,
            "\(request.action): \(growth.awardedGrowth) growth, level \(growth.level)")
        response.growth = growth

        // 3. Tasks the award finished: claim (once per task and period), then pay the claim.
        let base = LedgerPayer.lotBase(occurredAtMs: request.occurredAtMs, now: now)
        let rewards = try await payer.claimAndPayTasks(
            growth.completedTasks, user: user, level: growth.level, timeZone: request.timeZone, eventID: request.eventId,
            occurredAtMs: request.occurredAtMs, base: base, now: now, flow: "track_action", steps: &steps)
        response.tasksRewarded = rewards.tasks
        response.taskRewards = rewards.transfers

        // 4. Level-up rewards.
        if growth.levelledUp {
            response.levelRewards = try await payer.payLevelRewards(
                user: user, fromLevel: growth.fromLevel, toLevel: growth.toLevel, base: base, now: now,
                eventID: request.eventId, flow: "track_action", steps: &steps)
        }

        // 5. The referral, when this action makes the user's inviter earn it.
        response.referral = try await ReferralPayer(backend: backend, configuration: configuration).afterAction(
            request.action, invitee: user, occurredAtMs: request.occurredAtMs, base: base, now: now, steps: &steps)?.referral
        response.steps = steps.steps
        response.replayed = steps.replayed
        return response
    }
}
