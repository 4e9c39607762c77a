public import RetainProto
public import RetainFlowRules

/// Gateway.Onboard: registers the profile (with its inviter), awards "sign_up" growth, pays the
/// welcome bonus and any level-up the sign-up growth caused. The referral is paid later, when the
/// invitee qualifies (``ReferralPayer``), unless the rules pay it at sign-up. Every step is keyed by the event id (see ``FlowKeys``), so a retry
/// with the same event id completes what an earlier attempt left and pays nothing twice.
public struct OnboardFlow: Sendable {
    let backend: any FlowBackend
    let configuration: FlowConfiguration

    public init(backend: any FlowBackend, configuration: FlowConfiguration) {
        self.backend = backend
        self.configuration = configuration
    }

    /// Runs the flow; `now` is the gateway's clock in Unix ms.
    public func run(_ request: Retain_V1_OnboardRequest, now: Int64) async throws -> Retain_V1_OnboardResponse {
        try FlowValidation.key(request.eventId, field: "event_id")
        let user = request.userId.isEmpty ? FlowKeys.userID(forEvent: request.eventId) : request.userId
        try FlowValidation.entityID(user, field: "user_id")
        if !request.inviterUserId.isEmpty {
            try FlowValidation.entityID(request.inviterUserId, field: "inviter_user_id")
            guard request.inviterUserId != user else {
                throw FlowError.invalid(field: "inviter_user_id", reason: "must differ from the new user's id")
            }
        }
        let flowKey = FlowKeys.derive("onboard:", request.eventId)
        let payer = LedgerPayer(backend: backend, configuration: configuration)
        var steps = FlowSteps()
        var response = Retain_V1_OnboardResponse()

        // 1. The profile. The body holds only what the caller sent (no clock), so a retry
        // carries the same body and Profile answers the first registration.
        let registration = try await backend.call(
            Retain_V1_Profile.registerUser,
            Retain_V1_RegisterUserRequest(
                userId: user, requestId: flowKey, channel: request.channel, campaign: request.campaign,
                inviterUserId: request.inviterUserId, age: request.age, gender: request.gender, region: request.region,
                timeZone: request.timeZone, attributes: request.attributes, tags: request.tags,
                registeredAtMs: request.registeredAtMs), .write(key: flowKey))
        steps.ran("profile.register", replayed: registration.replayed, "user \(user)")
        response.profile = registration.profile
        let registeredAt = registration.profile?.registeredAtMs ?? 0
        let base = registeredAt != 0 ? registeredAt : (request.registeredAtMs != 0 ? request.registeredAtMs : now)

        // 2. Sign-up growth.
        let growth = try await backend.call(
            Retain_V1_Growth.awardGrowth,
            Retain_V1_AwardGrowthRequest(
                userId: user, action: "sign_up", idempotencyKey: flowKey, occurredAtMs: request.registeredAtMs,
                timeZone: request.timeZone), .write(key: flowKey))
        steps.ran(
            "growth.award", replayed: growth.replayed,
            "sign_up: \(growth.awardedGrowth) growth, level \(growth.level)")
        response.growth = growth

        let rules = configuration.rules(forCampaign: request.campaign)
        let metadata = ["flow": "onboard", "event_id": request.eventId]

        // 3. Welcome bonus, once per user.
        if let bonus = rules.welcomeBonus {
            let transfer = LedgerPayer.reward(
                id: FlowKeys.welcomeTransfer(user: user), user: user, reward: bonus.reward, budget: bonus.budget,
                kind: .welcomeBonus, expiresAtMs: LedgerPayer.expiry(base: base, days: bonus.expiresAfterDays, now: now),
                reason: "welcome bonus", metadata: metadata)
            switch try await payer.pay(transfer) {
            case .paid(let result, let replayed, let detail):
                response.welcomeBonus = result
                steps.ran("ledger.welcome_bonus", replayed: replayed, detail)
            case .refused(let result):
                response.welcomeBonus = result
                steps.add(
                    "ledger.welcome_bonus", .skipped,
                    "budget '\(bonus.budget)' cannot pay it (\(result.code)); a retry pays once it is raised")
            }
        } else {
            steps.add("ledger.welcome_bonus", .skipped, "no welcome bonus configured")
        }

        // 4. Referral: recorded on the profile and paid when the invitee qualifies (TrackAction,
        // CheckInFlow), unless the rules pay at sign-up.
        if request.inviterUserId.isEmpty {
            steps.add("ledger.referral", .skipped, "no inviter")
        } else if let referral = rules.referral {
            if referral.paysAtSignUp {
                response.referral = try await ReferralPayer(backend: backend, configuration: configuration).pay(
                    invitee: user, inviter: request.inviterUserId, rules: referral, occurredAtMs: request.registeredAtMs,
                    base: base, now: now, steps: &steps
                ).referral
            } else {
                let condition =
                    referral.qualifyingActiveDays.map { "is active on \($0) of the recent days" }
                    ?? "does \(referral.earningAction)"
                steps.add("ledger.referral", .skipped, "paid to \(request.inviterUserId) and \(user) once \(user) \(condition)")
            }
        } else {
            steps.add("ledger.referral", .skipped, "no referral rewards configured")
        }

        // 5. Level-up rewards, if sign-up growth crossed a level.
        if growth.levelledUp {
            response.levelRewards = try await payer.payLevelRewards(
                user: user, fromLevel: growth.fromLevel, toLevel: growth.toLevel, base: base, now: now,
                eventID: request.eventId, flow: "onboard", steps: &steps)
        }
        response.steps = steps.steps
        response.replayed = steps.replayed
        return response
    }
}
