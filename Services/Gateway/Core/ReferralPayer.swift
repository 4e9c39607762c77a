public import RetainProto
public import RetainFlowRules

/// Pays referrals when the invitee qualifies, not at sign-up: after the invitee's qualifying
/// action (by default the first purchase), or once the invitee was active on enough recent days.
/// The ledger pays once per invitee (transfers `referral:<invitee>:inviter` and
/// `referral:<invitee>:invitee`) and keeps each inviter under its daily cap; a paid referral also
/// awards the inviter's `invite` growth (key `referral:<invitee>`). No self-invites: a profile
/// naming itself as inviter, or an inviter that is not a registered user, is paid nothing.
public struct ReferralPayer: Sendable {
    let backend: any FlowBackend
    let configuration: FlowConfiguration

    public init(backend: any FlowBackend, configuration: FlowConfiguration) {
        self.backend = backend
        self.configuration = configuration
    }

    /// What was paid.
    public struct Payment: Sendable {
        /// The ledger's answer; nil when nothing was asked of it.
        public var referral: Retain_V1_RewardReferralResponse?
        /// The inviter's growth award; nil when none was made.
        public var inviterGrowth: Retain_V1_AwardGrowthResponse?
    }

    /// Whether any referral rule (the default's or a campaign's) could be earned by `action`, so
    /// that other actions cost no read.
    public func mightQualify(_ action: String) -> Bool {
        let rules = [configuration.referral] + (configuration.campaigns ?? [:]).values.map(\.referral)
        return rules.contains { rule in
            guard let rule else { return false }
            return rule.qualifyingActiveDays != nil || (rule.earningAction == action && action != "sign_up")
        }
    }

    /// The referral step after an action of `invitee`: pays when the invitee has an inviter and
    /// the action (or the invitee's recent activity) qualifies under its campaign's rules;
    /// records no step when it does not.
    ///
    /// - Parameters:
    ///   - occurredAtMs: the action's time (0: now), for the inviter's growth award.
    ///   - base: when the credited lots' validity starts.
    public func afterAction(
        _ action: String, invitee: String, occurredAtMs: Int64, base: Int64, now: Int64, steps: inout FlowSteps
    ) async throws -> Payment? {
        guard mightQualify(action) else { return nil }
        let profile = try await backend.call(Retain_V1_Profile.getProfile, Retain_V1_GetProfileRequest(userId: invitee), .read).profile
        guard let profile, !profile.inviterUserId.isEmpty,
            let rules = configuration.rules(forCampaign: profile.campaign).referral, !rules.paysAtSignUp
        else { return nil }
        if let days = rules.qualifyingActiveDays {
            let lifecycle = try await backend.call(
                Retain_V1_Profile.getLifecycle, Retain_V1_GetLifecycleRequest(userId: invitee), .read)
            guard lifecycle.recentActiveDays >= UInt32(days) else { return nil }
        } else {
            guard rules.earningAction == action else { return nil }
        }
        return try await pay(
            invitee: invitee, inviter: profile.inviterUserId, rules: rules, occurredAtMs: occurredAtMs,
            base: base, now: now, steps: &steps)
    }

    /// Pays the referral of `invitee` by `inviter` under `rules` now, with its steps.
    public func pay(
        invitee: String, inviter: String, rules: FlowConfiguration.Referral, occurredAtMs: Int64, base: Int64, now: Int64,
        steps: inout FlowSteps
    ) async throws -> Payment {
        var payment = Payment()
        guard inviter != invitee else {
            steps.add("ledger.referral", .skipped, "\(invitee) names itself as inviter: no self-invites")
            return payment
        }
        do {
            _ = try await backend.call(Retain_V1_Profile.getProfile, Retain_V1_GetProfileRequest(userId: inviter), .read)
        } catch let error as BackendFailure where error.reason == .notFound {
            steps.add("ledger.referral", .skipped, "inviter \(inviter) is not a registered user")
            return payment
        }
        let request = Retain_V1_RewardReferralRequest(
            userId: invitee, inviterUserId: inviter, campaignId: rules.budget,
            inviterReward: rules.inviterReward.map { Retain_V1_Amount(value: $0.value, asset: $0.asset) },
            inviteeReward: rules.inviteeReward.map { Retain_V1_Amount(value: $0.value, asset: $0.asset) },
            expiresAtMs: LedgerPayer.expiry(base: base, days: rules.expiresAfterDays, now: now),
            inviterDailyCap: UInt32(max(0, rules.inviterDailyCap ?? 0)))
        let answer: Retain_V1_RewardReferralResponse
        do {
            answer = try await rewardReferral(request, key: "referral:\(invitee)")
        } catch let error as BackendFailure where error.reason == .refused {
            steps.add(
                "ledger.referral", .skipped,
                "budget '\(rules.budget)' cannot pay it (\(error.message)); a retry pays once it is raised")
            return payment
        } catch let error as BackendFailure where error.reason == .exists {
            steps.add("ledger.referral", .skipped, "invitee \(invitee) was already rewarded with other terms: \(error.message)")
            return payment
        }
        payment.referral = answer
        if answer.inviterCapped {
            steps.add(
                "ledger.referral", .skipped,
                "inviter \(inviter) has had \(rules.inviterDailyCap ?? 0) referrals rewarded today (the daily cap); the invitee's next qualifying action on a later day pays"
            )
            return payment
        }
        steps.ran("ledger.referral", replayed: answer.replayed, "inviter \(inviter) and invitee \(invitee) rewarded")
        let key = FlowKeys.derive("referral:", invitee)
        let growth = try await backend.call(
            Retain_V1_Growth.awardGrowth,
            Retain_V1_AwardGrowthRequest(
                userId: inviter, action: rules.inviterGrowthAction ?? "invite", idempotencyKey: key,
                occurredAtMs: occurredAtMs), .write(key: key))
        steps.ran(
            "growth.inviter_award", replayed: growth.replayed,
            "\(inviter): \(growth.awardedGrowth) growth for inviting \(invitee)")
        payment.inviterGrowth = growth
        return payment
    }

    /// RewardReferral, opening the budget account first if the ledger says it was never opened.
    private func rewardReferral(
        _ request: Retain_V1_RewardReferralRequest, key: String
    ) async throws
        -> Retain_V1_RewardReferralResponse
    {
        do {
            return try await backend.call(Retain_V1_Ledger.rewardReferral, request, .write(key: key))
        } catch let error as BackendFailure
            where error.reason == .refused && (error.details["result"] ?? error.message).uppercased().contains("ACCOUNT_NOT_FOUND")
        {
            let payer = LedgerPayer(backend: backend, configuration: configuration)
            let assets = Set([request.inviterReward?.asset, request.inviteeReward?.asset].compactMap { $0 })
            for asset in assets.sorted() {
                try await payer.openBudget(LedgerPayer.budgetAccount(request.campaignId, asset: asset))
            }
            return try await backend.call(Retain_V1_Ledger.rewardReferral, request, .write(key: key))
        }
    }
}
