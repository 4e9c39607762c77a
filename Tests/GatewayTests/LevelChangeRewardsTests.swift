import Foundation
import GatewayCore
import GatewayService
import RetainProto
import RetainWire
import Testing
import RetainFlowRules

/// Level rewards paid from Growth's level-change events, whatever caused them, and the cursor
/// that follows one instance's stream.
@Suite("Level-change rewards")
struct LevelChangeRewardsTests {
    let now: Int64 = 1_750_000_100_000
    let configuration = FlowConfiguration.standard

    private func event(_ position: UInt64, _ user: String, from: UInt32, to: UInt32, cause: String = "post") -> Retain_V1_LevelChangeEvent {
        Retain_V1_LevelChangeEvent(
            position: position, userId: user, fromLevel: from, toLevel: to, atMs: now - 1000,
            causeAction: cause, causeKey: "k\(position)")
    }

    @Test("a level reached by any write is paid once per level crossed, from the level budget")
    func paysEveryLevelCrossed() async throws {
        let backends = FakeBackends()
        let rewards = LevelChangeRewards(backend: backends, configuration: configuration)
        let outcome = try await rewards.pay([event(1, "u", from: 1, to: 3, cause: "check_in"), event(2, "v", from: 1, to: 2)], now: now)
        #expect(outcome == .init(paid: ["level:u:2", "level:u:3", "level:v:2"], alreadyPaid: 0))
        #expect(await backends.balance("u") == 50 + 100)
        #expect(await backends.balance("v") == 50)
        #expect(await backends.balances["budget:levels:points"] == -200)
    }

    @Test("levels a flow paid already, or an earlier batch, are looked up and not paid again")
    func paidOnce() async throws {
        let backends = FakeBackends()
        _ = try await OnboardFlow(backend: backends, configuration: configuration).run(.init(userId: "w", eventId: "on"), now: now)
        #expect(await backends.transferIDs.contains("level:w:2"))  // the sign-up's level reward, paid by Onboard
        let rewards = LevelChangeRewards(backend: backends, configuration: configuration)
        let first = try await rewards.pay([event(1, "w", from: 1, to: 2, cause: "sign_up")], now: now)
        #expect(first == .init(paid: [], alreadyPaid: 1))
        let again = try await rewards.pay([event(1, "w", from: 1, to: 2), event(2, "w", from: 2, to: 3)], now: now)
        #expect(again == .init(paid: ["level:w:3"], alreadyPaid: 1))
        #expect(await backends.balance("w") == 100 + 50 + 100)
        #expect(await backends.calls[Retain_V1_Ledger.lookupTransfers.path] == 2)
    }

    @Test("an exhausted level budget refuses the batch, so the follower tries it again")
    func refusedBudget() async throws {
        let backends = FakeBackends()
        await backends.openBudget("budget:levels:points", cap: 0)
        let rewards = LevelChangeRewards(backend: backends, configuration: configuration)
        await #expect(throws: FlowError.self) { _ = try await rewards.pay([event(1, "x", from: 1, to: 2)], now: now) }
        #expect(await backends.balance("x") == 0)
    }

    @Test("levels without a configured reward and events that lower nothing pay nothing")
    func nothingToPay() async throws {
        let backends = FakeBackends()
        let rewards = LevelChangeRewards(backend: backends, configuration: configuration)
        #expect(rewards.transfers(for: [event(1, "y", from: 5, to: 6), event(2, "y", from: 3, to: 3)], now: now).isEmpty)
        #expect(try await rewards.pay([event(1, "y", from: 5, to: 6)], now: now) == .init())
        #expect(await backends.calls.isEmpty)
    }

    @Test("the cursor resumes after the last event handled and starts again from the first event of a new stream")
    func cursor() {
        var cursor = LevelStreamCursor()
        #expect(cursor.request == Retain_V1_WatchLevelChangesRequest(afterPosition: 0))
        #expect(cursor.observe(.init(headPosition: 7, streamId: "s1")) == .handle)
        cursor.handled(upTo: 5)
        cursor.handled(upTo: 3)
        #expect(cursor.request.afterPosition == 5)
        #expect(cursor.observe(.init(headPosition: 9, streamId: "s1")) == .handle)
        // The instance's data directory was replaced: its positions mean other events.
        #expect(cursor.observe(.init(headPosition: 2, streamId: "s2")) == .reopen)
        #expect(cursor.streamID == "s2" && cursor.request.afterPosition == 0)
    }

    @Test("after its events were pruned, the cursor follows from the end the next call finds")
    func cursorFromEnd() {
        var cursor = LevelStreamCursor()
        _ = cursor.observe(.init(headPosition: 10, streamId: "s"))
        cursor.skipToEnd()
        #expect(cursor.request == Retain_V1_WatchLevelChangesRequest(fromEnd: true))
        #expect(cursor.observe(.init(headPosition: 2_000_000, streamId: "s")) == .handle)
        #expect(cursor.position == 2_000_000 && cursor.request == Retain_V1_WatchLevelChangesRequest(afterPosition: 2_000_000))
    }
}
