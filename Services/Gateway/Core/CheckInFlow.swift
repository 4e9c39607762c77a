public import RetainProto
public import RetainFlowRules

/// Gateway.CheckInFlow: records the check-in as activity, checks in with Growth, claims the
/// tasks the check-in finished and pays their rewards, and pays level-up rewards. The event id
/// is the activity's event id and the check-in's idempotency key, so a retry gets Growth's
/// first answer (its tasks and level change) and pays what is still unpaid; task rewards pay
/// under the claim ids Growth gives and level rewards under `level:<user>:<level>`.
public struct CheckInFlow: Sendable {
    let backend: any FlowBackend
    let configuration: FlowConfiguration

    public init(backend: any FlowBackend, configuration: FlowConfiguration) {
        self.backend = backend
        self.configuration = configuration
    }

    /// Runs the flow; `now` is the gateway's clock in Unix ms.
    public func run(_ request: Retain_V1_CheckInFlowRequest, now: Int64) async throws -> Retain_V1_CheckInFlowResponse {
        try FlowValidation.entityID(request.userId, field: "user_id")
        try FlowValidation.key(request.eventId, field: "event_id")
        guard request.atMs >= 0 else { throw FlowError.invalid(field: "at_ms", reason: "must not be negative") }
        if !request.source.isEmpty { try FlowValidation.name(request.source, field: "source") }
        let user = request.userId
        let payer = LedgerPayer(backend: backend, configuration: configuration)
        var steps = FlowSteps()
        var response = Retain_V1_CheckInFlowResponse()

        // 1. The activity: Profile refuses an unknown or deleted user before anything is awarded.
        let activity = try await backend.call(
            Retain_V1_Profile.recordActivity,
            Retain_V1_RecordActivityRequest(
                userId: user, eventId: request.eventId, kind: "check_in", occurredAtMs: request.atMs,
                source: request.source), .write(key: request.eventId))
        steps.ran("profile.record_activity", replayed: activity.outcome == .duplicate, "stage \(activity.stage)")
        response.activity = activity

        // 2. The check-in, keyed by the event id: a retry answers the first answer.
        let checkIn = try await backend.call(
            Retain_V1_Growth.checkIn,
            Retain_V1_CheckInRequest(
                userId: user, timeZone: request.timeZone, atMs: request.atMs, idempotencyKey: request.eventId),
            .write(key: request.eventId))
        if checkIn.alreadyCheckedIn {
            steps.add("growth.check_in", .skipped, "already checked in on \(checkIn.localDate)")
        } else {
            steps.ran(
                "growth.check_in", replayed: checkIn.replayed,
                "\(checkIn.localDate): \(checkIn.awardedGrowth) growth, streak \(checkIn.streakDays), level \(checkIn.level)")
        }
        response.checkIn = checkIn

        // 3. Check-in tasks it finished, then 4. level-up rewards.
        let base = LedgerPayer.lotBase(occurredAtMs: request.atMs, now: now)
        let rewards = try await payer.claimAndPayTasks(
            checkIn.completedTasks, user: user, level: checkIn.level, timeZone: request.timeZone, eventID: request.eventId,
            occurredAtMs: request.atMs, base: base, now: now, flow: "check_in", steps: &steps)
        response.tasksRewarded = rewards.tasks
        response.taskRewards = rewards.transfers
        if checkIn.levelledUp {
            response.levelRewards = try await payer.payLevelRewards(
                user: user, fromLevel: checkIn.fromLevel, toLevel: checkIn.toLevel, base: base, now: now,
                eventID: request.eventId, flow: "check_in", steps: &steps)
        }

        // 5. The referral, when this action makes the user's inviter earn it.
        response.referral = try await ReferralPayer(backend: backend, configuration: configuration).afterAction(
            "check_in", invitee: user, occurredAtMs: request.atMs, base: base, now: now, steps: &steps)?.referral
        response.steps = steps.steps
        response.replayed = steps.replayed
        return response
    }
}
