import Foundation
import GatewayCore
import GatewayService
import RetainProto
import RetainWire
import Testing
import RetainFlowRules

/// Gateway.CheckInFlow against in-memory backends: a check-in counts as activity, pays its
/// tasks' rewards and the level it reached, and a retry after a failure half-way pays the rest
/// once.
@Suite("CheckIn flow")
struct CheckInFlowTests {
    let now: Int64 = 1_750_000_100_000
    let configuration = FlowConfiguration.standard

    private func outcomes(_ steps: [Retain_V1_FlowStep]) -> [String] {
        steps.map { "\($0.name)=\($0.outcome.protoValueName?.replacingOccurrences(of: "FLOW_STEP_OUTCOME_", with: "") ?? "?")" }
    }

    /// A registered user with 45 growth (level 2 of the fake's thresholds 0, 20, 50, ...).
    private func user(_ backends: FakeBackends, _ id: String) async throws {
        _ = try await OnboardFlow(backend: backends, configuration: configuration).run(.init(userId: id, eventId: "on-\(id)"), now: now)
        let track = TrackActionFlow(backend: backends, configuration: configuration)
        for index in 1...2 { _ = try await track.run(.init(userId: id, eventId: "login-\(index)", action: "login"), now: now) }
    }

    private func checkIn(_ backends: FakeBackends, _ request: Retain_V1_CheckInFlowRequest) async throws -> Retain_V1_CheckInFlowResponse {
        try await FlowError.mapped { try await CheckInFlow(backend: backends, configuration: configuration).run(request, now: now) }
    }

    @Test("a check-in is recorded as check_in activity, pays its task's reward and the reward of the level it reached")
    func checkInPays() async throws {
        let backends = FakeBackends()
        try await user(backends, "ann")
        let before = await backends.balance("ann")
        let answer = try await checkIn(backends, .init(userId: "ann", eventId: "ci-1"))
        #expect(await backends.activityKinds["ann/ci-1"] == "check_in")
        #expect(answer.checkIn?.awardedGrowth == 5 && answer.checkIn?.toLevel == 3)
        #expect(answer.tasksRewarded.map(\.taskId) == ["daily_check_in"])
        #expect(answer.taskRewards.map(\.transferId) == ["task:ann:daily_check_in:day-\(now / 86_400_000)"])
        #expect(answer.levelRewards.map(\.transferId) == ["level:ann:3"])
        #expect(
            outcomes(answer.steps) == [
                "profile.record_activity=DONE", "growth.check_in=DONE", "growth.claim_task=DONE",
                "ledger.task_reward=DONE", "ledger.level_reward=DONE",
            ])
        #expect(await backends.balance("ann") == before + 10 + 100)
        let kinds = await backends.kinds
        #expect(kinds[Retain_V1_Growth.checkIn.path] == [.write(key: "ci-1")])
    }

    @Test("a retry after the ledger failed gets Growth's first answer and pays the task and level rewards once")
    func retryAfterLedgerFailure() async throws {
        let backends = FakeBackends()
        try await user(backends, "bo")
        let before = await backends.balance("bo")
        await backends.inject(Retain_V1_Ledger.createTransfers.path, .before)
        await #expect(throws: RPCError.self) { _ = try await checkIn(backends, .init(userId: "bo", eventId: "ci")) }
        #expect(await backends.balance("bo") == before)
        let retry = try await checkIn(backends, .init(userId: "bo", eventId: "ci"))
        #expect(retry.checkIn?.replayed == true && retry.checkIn?.alreadyCheckedIn == false)
        #expect(
            outcomes(retry.steps) == [
                "profile.record_activity=REPLAYED", "growth.check_in=REPLAYED", "growth.claim_task=REPLAYED",
                "ledger.task_reward=DONE", "ledger.level_reward=DONE",
            ])
        #expect(await backends.balance("bo") == before + 110)
        let again = try await checkIn(backends, .init(userId: "bo", eventId: "ci"))
        #expect(again.replayed)
        #expect(await backends.balance("bo") == before + 110)
    }

    @Test("a second check-in the same day counts as activity and pays nothing")
    func secondCheckInSameDay() async throws {
        let backends = FakeBackends()
        try await user(backends, "cy")
        _ = try await checkIn(backends, .init(userId: "cy", eventId: "ci-1"))
        let balance = await backends.balance("cy")
        let second = try await checkIn(backends, .init(userId: "cy", eventId: "ci-2"))
        #expect(second.checkIn?.alreadyCheckedIn == true)
        #expect(second.taskRewards.isEmpty && second.levelRewards.isEmpty)
        #expect(outcomes(second.steps) == ["profile.record_activity=DONE", "growth.check_in=SKIPPED"])
        #expect(await backends.activityKinds["cy/ci-2"] == "check_in")
        #expect(await backends.balance("cy") == balance)
    }

    @Test("an unknown user is NOT_FOUND before Growth is called; a missing event id is refused naming the field")
    func refusals() async throws {
        let backends = FakeBackends()
        await #expect(throws: RPCError.invalidArgument(field: "event_id", "is required")) {
            _ = try await checkIn(backends, .init(userId: "x"))
        }
        await #expect(throws: RPCError.invalidArgument(field: "at_ms", "must not be negative")) {
            _ = try await checkIn(backends, .init(userId: "x", eventId: "e", atMs: -1))
        }
        #expect(await backends.calls.isEmpty)
        await #expect(throws: RPCError.notFound("user", "ghost")) {
            _ = try await checkIn(backends, .init(userId: "ghost", eventId: "e"))
        }
        #expect(await backends.calls[Retain_V1_Growth.checkIn.path] == nil)
    }

    @Test("a tier's points_multiplier multiplies a task reward in points, rounded down")
    func tierMultiplier() async throws {
        let backends = FakeBackends()
        await backends.setLevelTiers([
            Retain_V1_LevelTier(level: 1, name: "Bronze"),
            Retain_V1_LevelTier(level: 3, name: "Gold", privileges: [.init(name: "points_multiplier", value: "1.25")]),
        ])
        try await user(backends, "dee")
        let before = await backends.balance("dee")
        let answer = try await checkIn(backends, .init(userId: "dee", eventId: "ci"))
        #expect(answer.checkIn?.level == 3)
        // 10 points x 1.25 = 12 (rounded down), then the level 3 reward (not multiplied).
        #expect(await backends.balance("dee") == before + 12 + 100)
        #expect(answer.steps.contains { $0.name == "ledger.task_reward" })
    }
}
