import Foundation
import GatewayCore
import GatewayService
import RetainProto
import RetainWire
import Testing
import RetainFlowRules

/// The flows' step logic against in-memory backends: what each flow does, and that a retry
/// with the same event id after a backend failed half-way completes the rest and pays once.
@Suite("Flows")
struct FlowTests {
    let now: Int64 = 1_750_000_100_000
    let configuration = FlowConfiguration.standard

    private func onboard(_ backends: FakeBackends, _ request: Retain_V1_OnboardRequest) async throws -> Retain_V1_OnboardResponse {
        try await FlowError.mapped { try await OnboardFlow(backend: backends, configuration: configuration).run(request, now: now) }
    }

    private func outcomes(_ steps: [Retain_V1_FlowStep]) -> [String] {
        steps.map { "\($0.name)=\($0.outcome.protoValueName?.replacingOccurrences(of: "FLOW_STEP_OUTCOME_", with: "") ?? "?")" }
    }

    @Test("onboarding registers with the inviter, awards sign-up growth and pays the welcome bonus, but no referral yet")
    func onboardWithInviter() async throws {
        let backends = FakeBackends()
        await backends.openBudget("budget:referral:points", cap: nil)
        _ = try await onboard(backends, .init(userId: "alice", eventId: "ev-alice"))
        let answer = try await onboard(backends, .init(userId: "bob", eventId: "ev-bob", channel: "referral", inviterUserId: "alice"))
        #expect(answer.profile?.userId == "bob" && answer.profile?.inviterUserId == "alice")
        #expect(answer.growth?.awardedGrowth == 25)
        #expect(answer.welcomeBonus?.code == .ok)
        #expect(answer.referral == nil && !answer.replayed)
        // Welcome 100 + level 2 reward 50 each; the referral waits for bob's first purchase.
        #expect(await backends.balance("bob") == 150)
        #expect(await backends.balance("alice") == 150)
        #expect(
            outcomes(answer.steps) == [
                "profile.register=DONE", "growth.award=DONE", "ledger.welcome_bonus=DONE",
                "ledger.referral=SKIPPED", "ledger.level_reward=DONE",
            ])
        #expect(answer.steps[3].detail == "paid to alice and bob once bob does purchase")
        // The welcome and level budgets were opened on first use (alice's onboarding), once each.
        #expect(await backends.calls[Retain_V1_Ledger.openAccount.path] == 2)
    }

    @Test("the invitee's first purchase pays both referral rewards and the inviter's invite growth, once")
    func referralOnFirstPurchase() async throws {
        let backends = FakeBackends()
        await backends.openBudget("budget:referral:points", cap: nil)
        _ = try await onboard(backends, .init(userId: "ann", eventId: "ev-ann"))
        _ = try await onboard(backends, .init(userId: "ben", eventId: "ev-ben", inviterUserId: "ann"))
        let track = TrackActionFlow(backend: backends, configuration: configuration)
        let login = try await track.run(.init(userId: "ben", eventId: "l1", action: "login"), now: now)
        #expect(login.referral == nil && !login.steps.contains { $0.name == "ledger.referral" })
        let (annBefore, benBefore) = (await backends.balance("ann"), await backends.balance("ben"))
        let purchase = try await track.run(
            .init(
                userId: "ben", eventId: "p1", action: "purchase",
                value: .init(value: 1000, asset: "usd")), now: now)
        #expect(purchase.referral?.results.map(\.transferId) == ["referral:ben:inviter", "referral:ben:invitee"])
        #expect(outcomes(purchase.steps).suffix(2) == ["ledger.referral=DONE", "growth.inviter_award=DONE"])
        #expect(await backends.balance("ann") == annBefore + 200)
        #expect(await backends.balance("ben") == benBefore + 100)
        let kinds = await backends.kinds
        #expect(kinds[Retain_V1_Growth.awardGrowth.path]?.contains(.write(key: "referral:ben")) == true)
        let second = try await track.run(
            .init(
                userId: "ben", eventId: "p2", action: "purchase",
                value: .init(value: 1000, asset: "usd")), now: now)
        #expect(second.referral?.replayed == true)
        #expect(outcomes(second.steps).suffix(2) == ["ledger.referral=REPLAYED", "growth.inviter_award=REPLAYED"])
        #expect(await backends.balance("ann") == annBefore + 200)
    }

    @Test("past the inviter's daily cap a referral pays nothing and waits; a self-invite in the profile pays nothing")
    func referralCapAndSelfInvite() async throws {
        let backends = FakeBackends()
        await backends.openBudget("budget:referral:points", cap: nil)
        var rules = configuration
        rules.referral?.inviterDailyCap = 1
        _ = try await onboard(backends, .init(userId: "host", eventId: "ev-host"))
        let track = TrackActionFlow(backend: backends, configuration: rules)
        for guest in ["g1", "g2"] {
            _ = try await onboard(backends, .init(userId: guest, eventId: "ev-\(guest)", inviterUserId: "host"))
        }
        let first = try await track.run(
            .init(userId: "g1", eventId: "p", action: "purchase", value: .init(value: 100, asset: "usd")), now: now)
        #expect(first.referral?.results.count == 2)
        let capped = try await track.run(
            .init(userId: "g2", eventId: "p", action: "purchase", value: .init(value: 100, asset: "usd")), now: now)
        #expect(capped.referral?.inviterCapped == true && capped.referral?.results.isEmpty == true)
        #expect(capped.steps.last?.outcome == .skipped && capped.steps.last?.name == "ledger.referral")
        #expect(await backends.transferIDs.contains("referral:g2:invitee") == false)

        // A profile registered directly (not through Onboard) that names itself.
        _ = try await backends.call(
            Retain_V1_Profile.registerUser,
            Retain_V1_RegisterUserRequest(
                userId: "selfie", requestId: "r", inviterUserId: "selfie"), .write(key: "r"))
        let own = try await track.run(
            .init(userId: "selfie", eventId: "p", action: "purchase", value: .init(value: 100, asset: "usd")), now: now)
        #expect(own.referral == nil && own.steps.last?.detail == "selfie names itself as inviter: no self-invites")
    }

    @Test("with qualifying_action sign_up the referral pays at onboarding, as before")
    func referralAtSignUp() async throws {
        let backends = FakeBackends()
        await backends.openBudget("budget:referral:points", cap: nil)
        var rules = configuration
        rules.referral?.qualifyingAction = "sign_up"
        _ = try await OnboardFlow(backend: backends, configuration: rules).run(.init(userId: "cat", eventId: "e1"), now: now)
        let answer = try await OnboardFlow(backend: backends, configuration: rules).run(
            .init(userId: "dog", eventId: "e2", inviterUserId: "cat"), now: now)
        #expect(answer.referral?.results.count == 2)
        #expect(await backends.balance("cat") == 100 + 50 + 200)
    }

    @Test("a retry after the ledger applied the welcome bonus but the answer was lost pays nothing twice")
    func onboardRetryAfterHalfFailure() async throws {
        let backends = FakeBackends()
        await backends.openBudget("budget:welcome:points", cap: nil)
        await backends.inject(Retain_V1_Ledger.createTransfers.path, .after)
        await #expect(throws: RPCError.self) { _ = try await onboard(backends, .init(userId: "carol", eventId: "e1")) }
        #expect(await backends.balance("carol") == 100)
        let retry = try await onboard(backends, .init(userId: "carol", eventId: "e1"))
        #expect(await backends.balance("carol") == 150)
        #expect(
            outcomes(retry.steps) == [
                "profile.register=REPLAYED", "growth.award=REPLAYED", "ledger.welcome_bonus=REPLAYED",
                "ledger.referral=SKIPPED", "ledger.level_reward=DONE",
            ])
        #expect(!retry.replayed)
        let again = try await onboard(backends, .init(userId: "carol", eventId: "e1"))
        #expect(again.replayed)
        #expect(await backends.balance("carol") == 150)
    }

    @Test("every write of a flow carries an idempotency key derived from the event id")
    func writesCarryKeys() async throws {
        let backends = FakeBackends()
        _ = try await onboard(backends, .init(userId: "dan", eventId: "evt-42"))
        let kinds = await backends.kinds
        #expect(kinds[Retain_V1_Profile.registerUser.path] == [.write(key: "onboard:evt-42")])
        #expect(kinds[Retain_V1_Growth.awardGrowth.path] == [.write(key: "onboard:evt-42")])
        #expect(kinds[Retain_V1_Ledger.createTransfers.path]?.first == .write(key: "welcome:dan"))
        #expect(kinds[Retain_V1_Ledger.openAccount.path]?.allSatisfy { if case .admin = $0 { true } else { false } } == true)
    }

    @Test("without a user id, onboarding derives one from the event id, the same on every retry")
    func derivedUser() async throws {
        let backends = FakeBackends()
        let first = try await onboard(backends, .init(eventId: "signup-7"))
        let user = try #require(first.profile?.userId)
        #expect(user == FlowKeys.userID(forEvent: "signup-7"))
        #expect(user.hasPrefix("u_") && user.count == 28)
        let again = try await onboard(backends, .init(eventId: "signup-7"))
        #expect(again.profile?.userId == user)
        #expect(again.replayed)
    }

    @Test("an inviter that is not a registered user gets no referral reward, even when the invitee buys")
    func unknownInviter() async throws {
        let backends = FakeBackends()
        let answer = try await onboard(backends, .init(userId: "erin", eventId: "e", inviterUserId: "nobody"))
        #expect(answer.referral == nil)
        #expect(answer.steps.first { $0.name == "ledger.referral" }?.outcome == .skipped)
        let purchase = try await TrackActionFlow(backend: backends, configuration: configuration).run(
            .init(userId: "erin", eventId: "p", action: "purchase", value: .init(value: 100, asset: "usd")), now: now)
        #expect(purchase.referral == nil && purchase.steps.last?.detail == "inviter nobody is not a registered user")
        #expect(await backends.balance("nobody") == 0)
    }

    @Test("onboarding refuses a missing event id and an inviter equal to the user, naming the field")
    func onboardValidation() async throws {
        let backends = FakeBackends()
        await #expect(throws: RPCError.invalidArgument(field: "event_id", "is required")) {
            _ = try await onboard(backends, .init(userId: "x"))
        }
        await #expect(throws: RPCError.invalidArgument(field: "inviter_user_id", "must differ from the new user's id")) {
            _ = try await onboard(backends, .init(userId: "x", eventId: "e", inviterUserId: "x"))
        }
        #expect(await backends.calls.isEmpty)
    }

    @Test("an exhausted welcome budget skips the bonus without failing the onboarding")
    func exhaustedBudget() async throws {
        let backends = FakeBackends()
        await backends.openBudget("budget:welcome:points", cap: 0)
        let answer = try await onboard(backends, .init(userId: "fay", eventId: "e"))
        #expect(answer.steps.first { $0.name == "ledger.welcome_bonus" }?.outcome == .skipped)
        #expect(await backends.balance("fay") == 50)  // the level-up reward only
    }

    @Test("tracking the third login finishes a task: the claim and its reward pay once, even across a retry")
    func trackActionTask() async throws {
        let backends = FakeBackends()
        _ = try await onboard(backends, .init(userId: "gus", eventId: "on"))
        let flow = TrackActionFlow(backend: backends, configuration: configuration)
        for index in 1...2 {
            _ = try await flow.run(.init(userId: "gus", eventId: "login-\(index)", action: "login"), now: now)
        }
        let before = await backends.balance("gus")
        await backends.inject(Retain_V1_Ledger.createTransfers.path, .before)
        await #expect(throws: RPCError.self) {
            _ = try await FlowError.mapped { try await flow.run(.init(userId: "gus", eventId: "login-3", action: "login"), now: now) }
        }
        #expect(await backends.balance("gus") == before)
        let answer = try await flow.run(.init(userId: "gus", eventId: "login-3", action: "login"), now: now)
        #expect(answer.tasksRewarded.map(\.taskId) == ["login_3"])
        #expect(answer.taskRewards.first?.transferId == "task:gus:login_3:once")
        #expect(
            outcomes(answer.steps).prefix(4) == [
                "profile.record_activity=REPLAYED", "growth.award=REPLAYED",
                "growth.claim_task=REPLAYED", "ledger.task_reward=DONE",
            ])
        #expect(await backends.balance("gus") == before + 30 + 100)  // task reward + level 3 reward
        let again = try await flow.run(.init(userId: "gus", eventId: "login-3", action: "login"), now: now)
        #expect(again.replayed)
        #expect(await backends.balance("gus") == before + 130)
    }

    @Test("a purchase needs its value, and an unknown user is NOT_FOUND from Profile")
    func trackActionErrors() async throws {
        let backends = FakeBackends()
        let flow = TrackActionFlow(backend: backends, configuration: configuration)
        await #expect(throws: RPCError.invalidArgument(field: "value", "a purchase needs its value (value > 0)")) {
            _ = try await FlowError.mapped { try await flow.run(.init(userId: "u", eventId: "e", action: "purchase"), now: now) }
        }
        await #expect(throws: RPCError.notFound("user", "ghost")) {
            _ = try await FlowError.mapped { try await flow.run(.init(userId: "ghost", eventId: "e", action: "login"), now: now) }
        }
    }

    @Test("resolving with compensation pays it once and marks it paid; a retry after mark-paid failed completes it")
    func resolveFeedback() async throws {
        let backends = FakeBackends()
        await backends.addItem("fb_1", user: "hal")
        let flow = ResolveFeedbackFlow(backend: backends, configuration: configuration)
        let request = Retain_V1_ResolveFeedbackFlowRequest(
            itemId: "fb_1", eventId: "resolve-1", actor: "agent-7", outcome: .fixed,
            compensation: Retain_V1_Amount(value: 500, asset: "points"))
        await backends.inject(Retain_V1_Feedback.markCompensationPaid.path, .before)
        await #expect(throws: RPCError.self) { _ = try await FlowError.mapped { try await flow.run(request, now: now) } }
        #expect(await backends.balance("hal") == 500)
        let answer = try await flow.run(request, now: now)
        #expect(answer.paid)
        #expect(answer.payment?.transferId == "feedback:fb_1:compensation")
        #expect(answer.item?.compensation?.state == .paid)
        #expect(outcomes(answer.steps) == ["feedback.resolve=REPLAYED", "ledger.compensation=REPLAYED", "feedback.mark_paid=DONE"])
        #expect(await backends.balance("hal") == 500)
    }

    @Test("an item resolved earlier with its compensation still owed gets paid by a new resolution request")
    func owedCompensation() async throws {
        let backends = FakeBackends()
        await backends.addItem("fb_2", user: "ivy")
        let flow = ResolveFeedbackFlow(backend: backends, configuration: configuration)
        let first = Retain_V1_ResolveFeedbackFlowRequest(
            itemId: "fb_2", eventId: "r1", actor: "a", outcome: .fixed,
            compensation: Retain_V1_Amount(value: 40, asset: "points"))
        await backends.inject(Retain_V1_Ledger.createTransfers.path, .before)
        await #expect(throws: RPCError.self) { _ = try await FlowError.mapped { try await flow.run(first, now: now) } }
        let second = try await flow.run(
            Retain_V1_ResolveFeedbackFlowRequest(itemId: "fb_2", eventId: "r2", actor: "a", outcome: .fixed), now: now)
        #expect(second.paid)
        #expect(second.steps.first?.outcome == .skipped)
        #expect(await backends.balance("ivy") == 40)
    }

    @Test("the user report covers the ISO week in the user's time zone and lists failed sections when partial")
    func report() async throws {
        let backends = FakeBackends()
        _ = try await onboard(backends, .init(userId: "jo", eventId: "e", timeZone: "Asia/Shanghai"))
        let flow = UserReportFlow(backend: backends)
        // 2025-06-18 (a Wednesday) 12:00 UTC.
        let at: Int64 = 1_750_248_000_000
        let week = try await flow.run(.init(userId: "jo", period: .week, atMs: at), now: now)
        #expect(week.timeZone == "Asia/Shanghai")
        // Monday 2025-06-16 00:00 in Shanghai is 2025-06-15 16:00 UTC.
        #expect(week.periodStartMs == 1_750_003_200_000)
        #expect(week.periodEndMs - week.periodStartMs == 7 * 86_400_000)
        #expect(week.balances.first?.balance == 150)
        #expect(week.missingSections.isEmpty)
        await backends.inject(Retain_V1_Ledger.getBalance.path, .before, .before, .before, .before)
        let partial = try await flow.run(.init(userId: "jo", period: .year, atMs: at, allowPartial: true), now: now)
        #expect(partial.missingSections == ["balances"])
        #expect(partial.periodStartMs == 1_735_660_800_000)  // 2025-01-01 00:00 in Shanghai
        await #expect(throws: RPCError.self) {
            _ = try await FlowError.mapped { try await flow.run(.init(userId: "jo", period: .month, atMs: at), now: now) }
        }
        await #expect(throws: RPCError.notFound("user", "nobody")) {
            _ = try await FlowError.mapped { try await flow.run(.init(userId: "nobody", period: .month), now: now) }
        }
    }
}
