import Foundation
import RetainProcess
import RetainRPC
@testable import GrowthCore
import RetainMoves
import RetainProto
import Testing

/// Keep-up reviews (保级) and downgrades (docs/GROWTH.md#keep-up-and-downgrade): a user in a
/// reviewed tier is reviewed one window after reaching it (or after the last review); kept when
/// the growth earned within the window reaches the tier's keep_growth, else moved down one tier
/// with the total lowered to that tier's minimum. Figures below are worked out by hand.
@Suite("keep-up reviews and downgrades")
struct KeepUpTests {
    /// Bronze 0; Silver 100 (keep 60); Gold 300 (keep 150); reviews every 30 days; a purchase
    /// gives 1 growth per 100 of value, uncapped.
    static let rules = try! GrowthRules(
        GrowthRules.Configuration(
            tiers: [
                .init(name: "Bronze", minGrowth: 0),
                .init(name: "Silver", minGrowth: 100, keepGrowth: 60),
                .init(name: "Gold", minGrowth: 300, keepGrowth: 150),
            ],
            actions: [.init(action: "purchase", growthPerUnit: 1, unitValue: 100)],
            review: .init(windowDays: 30)))

    let start = utc(2026, 1, 5)
    func day(_ number: Int64, _ hour: Int64 = 12) -> Int64 { start + number * dayMs + hour * hourMs }

    func buy(_ state: inout GrowthState, _ user: String, growth: Int64, onDay number: Int64, key: String) throws {
        try state.award(user, "purchase", key: key, value: growth * 100, at: day(number), rules: Self.rules)
    }

    /// u1: Gold on day 0, earns 200 on day 10, nothing after. u2: Silver on day 5, earns 70 on
    /// day 20. u3: Gold on day 0, nothing until 100 on day 40.
    func population() throws -> GrowthState {
        var state = GrowthState()
        try buy(&state, "u1", growth: 350, onDay: 0, key: "a")
        try buy(&state, "u1", growth: 200, onDay: 10, key: "b")
        try buy(&state, "u2", growth: 120, onDay: 5, key: "a")
        try buy(&state, "u2", growth: 70, onDay: 20, key: "b")
        try buy(&state, "u3", growth: 300, onDay: 0, key: "a")
        try buy(&state, "u3", growth: 100, onDay: 40, key: "b")
        return state
    }

    func sweep(_ state: inout GrowthState, at ms: Int64) throws -> [Retain_V1_GrowthLevelReview] {
        guard let entry = state.planLevelReviews(now: ms, fallback: Self.rules) else { return [] }
        try state.apply(entry)
        return entry.levelReviews?.reviews ?? []
    }

    func summary(_ state: GrowthState, _ user: String) -> (level: UInt32, total: Int64) {
        let level = state.levels(userIDs: [user], asOf: nil, rules: Self.rules)[0]
        return (level.level, level.totalGrowth)
    }

    @Test("kept when the window's growth reaches keep_growth, else one tier down to its minimum; growth after the review stays")
    func reviews() throws {
        var state = try population()
        let reviews = try sweep(&state, at: day(95))
        let byUser = Dictionary(grouping: reviews, by: \.userId)
        // u1: day 30 kept (200 >= 150 in (day 0, day 30]); day 60 Gold -> Silver (0 earned), 550 -> 100;
        // day 90 Silver -> Bronze (0 earned), 100 -> 0.
        #expect(
            byUser["u1"]?.map { "\($0.fromLevel)>\($0.toLevel):\($0.windowGrowth):\($0.deductedGrowth)" } == [
                "3>3:200:0", "3>2:0:450", "2>1:0:100",
            ])
        #expect(byUser["u1"]?.map(\.reviewAtMs) == [day(30), day(60), day(90)])
        #expect(summary(state, "u1") == (1, 0))
        // u2: Silver since day 5; day 35 kept (70 >= 60); day 65 Silver -> Bronze (0), 190 -> 0.
        #expect(byUser["u2"]?.map { "\($0.fromLevel)>\($0.toLevel):\($0.windowGrowth):\($0.deductedGrowth)" } == ["2>2:70:0", "2>1:0:190"])
        #expect(summary(state, "u2") == (1, 0))
        // u3: day 30 Gold -> Silver (0 earned): 300 -> 100, and the 100 of day 40 stays: 200, Silver;
        // day 60: Silver kept (100 >= 60 in (day 30, day 60]); day 90 Silver -> Bronze: 200 -> 0.
        #expect(
            byUser["u3"]?.map { "\($0.fromLevel)>\($0.toLevel):\($0.windowGrowth):\($0.deductedGrowth)" } == [
                "3>2:0:200", "2>2:100:0", "2>1:0:200",
            ])
        #expect(summary(state, "u3") == (1, 0))
        // Nothing more is due.
        #expect(try sweep(&state, at: day(95)).isEmpty)
        // The level as of a past time follows the deductions' history records.
        #expect(state.levels(userIDs: ["u1"], asOf: day(50), rules: Self.rules)[0].level == 3)
        #expect(state.levels(userIDs: ["u1"], asOf: day(70), rules: Self.rules)[0].level == 2)
        #expect(state.levels(userIDs: ["u3"], asOf: day(45), rules: Self.rules)[0].totalGrowth == 200)
    }

    @Test("a sweep late or early decides the same: one sweep at day 95 equals sweeps on days 31, 61 and 91")
    func sweepTimingDoesNotMatter() throws {
        var once = try population()
        _ = try sweep(&once, at: day(95))
        var often = try population()
        for number in [Int64(31), 61, 91] { _ = try sweep(&often, at: day(number)) }
        for user in ["u1", "u2", "u3"] {
            #expect(summary(once, user) == summary(often, user), "\(user)")
            #expect(once.users[user]?.reviewedAtMs == often.users[user]?.reviewedAtMs)
            #expect(once.users[user]?.history.map(\.growth) == often.users[user]?.history.map(\.growth))
        }
    }

    @Test("downgrades are level-change events caused by \"review\"; the view shows the next review and what is still to earn")
    func eventsAndView() throws {
        var state = try population()
        let before = state.nextEventPosition
        // On day 20, u1 (Gold since day 0) has earned 200 of the 150 needed by day 30.
        let view = state.view(userID: "u1", timeZone: "", at: day(20), rules: Self.rules)
        #expect(view.review?.nextReviewAtMs == day(30))
        #expect(view.review?.windowGrowth == 200 && view.review?.growthToKeep == 0 && view.review?.keepGrowth == 150)
        #expect(view.review?.windowDays == 30)
        // u2 (Silver since day 5) on day 10 has earned nothing of the 60 needed by day 35.
        let second = state.view(userID: "u2", timeZone: "", at: day(10), rules: Self.rules)
        #expect(second.review?.nextReviewAtMs == day(35) && second.review?.growthToKeep == 60)
        _ = try sweep(&state, at: day(61))
        let events = state.events(after: before - 1, upTo: .max, limit: 100)
        let downgrades = events.filter { $0.causeAction == GrowthState.reviewCause }
        #expect(downgrades.map { "\($0.userId):\($0.fromLevel)>\($0.toLevel)" }.sorted() == ["u1:3>2", "u3:3>2"])
        #expect(downgrades.allSatisfy { $0.causeKey.hasPrefix("review:") })
        // The lowest tier is never reviewed: no review shown.
        var bronze = GrowthState()
        try buy(&bronze, "b", growth: 10, onDay: 0, key: "a")
        #expect(bronze.view(userID: "b", timeZone: "", at: day(1), rules: Self.rules).review == nil)
    }

    @Test("a user fenced for a move is not reviewed here, nor changed by a review planned before the fence")
    func fencedUsers() throws {
        var state = try population()
        let planned = try #require(state.planLevelReviews(now: day(95), fallback: Self.rules))
        state.fences = UserFences(fenced: ["u1"], fenceVersion: 2, droppedSinceFence: false, importedVersion: 0)
        let before = summary(state, "u1")
        try state.apply(planned)
        #expect(summary(state, "u1") == before && state.users["u1"]?.reviewedAtMs == 0)
        #expect(summary(state, "u2") == (1, 0))
        #expect(state.planLevelReviews(now: day(95), fallback: Self.rules) == nil, "u1 is fenced, the others are done")
    }

    @Test("without a review section levels never go down, and nothing is planned")
    func noReviews() throws {
        var state = GrowthState()
        try state.award("u", "purchase", key: "a", value: 50_000, at: day(0), rules: testRules)
        #expect(state.planLevelReviews(now: day(400), fallback: testRules) == nil)
    }

    @Test("the review settings are checked, naming the field")
    func validation() {
        func problem(_ json: String) -> String? {
            do {
                _ = try GrowthRules(json: Data(json.utf8))
                return nil
            } catch {
                return "\(error)"
            }
        }
        let actions = #""actions": [{"action": "buy", "growth": 1}]"#
        #expect(
            problem(#"{"tiers": [{"name": "A", "min_growth": 0, "keep_growth": 5}], "review": {"window_days": 30}, \#(actions)}"#)?
                .contains("tiers[0].keep_growth") == true)
        #expect(
            problem(#"{"tiers": [{"name": "A", "min_growth": 0}, {"name": "B", "min_growth": 10, "keep_growth": 5}], \#(actions)}"#)?
                .contains("needs review.window_days") == true)
        #expect(
            problem(#"{"tiers": [{"name": "A", "min_growth": 0}], "review": {"window_days": 366}, \#(actions)}"#)?.contains(
                "review.window_days") == true)
        #expect(
            problem(#"{"tiers": [{"name": "A", "min_growth": 0}], "review": {"days": 30}, \#(actions)}"#)?.contains("review.days") == true)
        #expect(
            problem(
                #"{"tiers": [{"name": "A", "min_growth": 0}, {"name": "B", "min_growth": 10, "keep_growth": 5}], "review": {"window_days": 365}, \#(actions)}"#
            ) == nil)
    }

    @Test("the review time travels with the user's record (snapshots and moves)")
    func record() throws {
        var state = try population()
        _ = try sweep(&state, at: day(40))
        let user = try #require(state.users["u1"])
        #expect(user.reviewedAtMs == day(30))
        #expect(UserGrowth(user.record("u1")).reviewedAtMs == day(30))
    }
}

/// Keep-up reviews in the real `retain-growth`: the sweep logs a due downgrade, the level and
/// total change, the event is in the level-change stream, and all of it survives kill -9.
@Suite("keep-up reviews over TCP", .serialized)
struct KeepUpServerTests {
    @Test("a review that came due downgrades through the sweep; the view, GetLevels and the stream agree, also after kill -9")
    func sweepOverTheWire() async throws {
        let directory = try makeTemporaryDirectory("growth-keepup")
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = directory.appendingPathComponent("growth.json")
        let document = #"""
            {"tiers": [{"name": "Bronze", "min_growth": 0}, {"name": "Silver", "min_growth": 100, "keep_growth": 60},
                       {"name": "Gold", "min_growth": 300, "keep_growth": 150}],
             "actions": [{"action": "purchase", "growth_per_unit": 1, "unit_value": 100}],
             "review": {"window_days": 30}}
            """#
        try Data(document.utf8).write(to: config)
        let data = directory.appendingPathComponent("data")
        let arguments = ["--config", config.path, "--level-review-ms", "100", "--ops-port=-1"]
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let server = try startGrowth(data, arguments)
        let client = RPCClient(host: "127.0.0.1", port: server.port)
        // Reviews count from when the reviewing rules came into force: the file became version 1
        // now, so the same rules are stored again as in force since 60 days ago.
        _ = try await client.unary(
            Retain_V1_RuleSets.setRuleSet,
            .init(
                service: "growth", document: Array(document.utf8), reason: "reviews since the season began",
                effectiveFromMs: now - 60 * dayMs))
        // Gold 40 days ago, nothing since: the review 10 days ago moved the user to Silver (300 -> 100).
        // Gold 20 days ago: reviewed in 10 days, 150 still to earn.
        _ = try await client.unary(
            Retain_V1_Growth.awardGrowth,
            .init(userId: "old", action: "purchase", idempotencyKey: "a", value: 30_000, occurredAtMs: now - 40 * dayMs))
        _ = try await client.unary(
            Retain_V1_Growth.awardGrowth,
            .init(userId: "new", action: "purchase", idempotencyKey: "a", value: 30_000, occurredAtMs: now - 20 * dayMs))
        func check(_ client: RPCClient) async throws {
            let levels = try await client.unary(Retain_V1_Growth.getLevels, .init(userIds: ["old", "new"])).levels
            #expect(levels.map(\.level) == [2, 3] && levels.map(\.totalGrowth) == [100, 300])
            let view = try await client.unary(Retain_V1_Growth.getGrowthView, .init(userId: "new"))
            #expect(view.review?.nextReviewAtMs == now - 20 * dayMs + 30 * dayMs && view.review?.growthToKeep == 150)
            let downgraded = try await client.unary(Retain_V1_Growth.getGrowthView, .init(userId: "old"))
            #expect(downgraded.level?.name == "Silver" && downgraded.review?.nextReviewAtMs == now + 20 * dayMs)
        }
        let swept = try await eventuallyAsync {
            try await client.unary(Retain_V1_Growth.getLevels, .init(userIds: ["old"])).levels.first?.level == 2
        }
        #expect(swept, "the sweep did not downgrade")
        try await check(client)
        // The stream replays every event up to its head (the opening heartbeat says which).
        var events: [Retain_V1_LevelChangeEvent] = []
        var head: UInt64?
        for try await message in client.serverStreaming(Retain_V1_Growth.watchLevelChanges, .init()) {
            if head == nil { head = message.headPosition }
            if let event = message.event { events.append(event) }
            if let head, events.last?.position ?? 0 >= head { break }
        }
        #expect(
            events.map { "\($0.userId):\($0.fromLevel)>\($0.toLevel):\($0.causeAction)" } == [
                "old:1>3:purchase", "new:1>3:purchase", "old:3>2:review",
            ])
        await client.close()
        server.kill()
        let again = try startGrowth(data, arguments)
        defer { again.stop() }
        let second = RPCClient(host: "127.0.0.1", port: again.port)
        try await check(second)
        await second.close()
    }

    func eventuallyAsync(timeout: Duration = .seconds(10), _ condition: () async throws -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return try await condition()
    }
}
