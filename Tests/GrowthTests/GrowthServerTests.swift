import Foundation
import GrowthCore
import RetainProcess
import RetainProto
import RetainRPC
import RetainWire
import Testing

/// Integration tests against the real `retain-growth` over TCP.
@Suite("Growth over TCP", .serialized)
struct GrowthServerTests {
    let day = utc(2025, 3, 10, 9)  // a Monday

    func award(
        _ user: String, _ action: String, key: String, value: Int64 = 0, at: Int64, zone: String = ""
    )
        -> Retain_V1_AwardGrowthRequest
    {
        Retain_V1_AwardGrowthRequest(
            userId: user, action: action, idempotencyKey: key, value: value, occurredAtMs: at,
            timeZone: zone)
    }

    @Test("tiers, awards, check-ins, tasks, views and leaderboards answer over TCP")
    func endToEnd() async throws {
        let directory = try makeTemporaryDirectory("growth")
        defer { try? FileManager.default.removeItem(at: directory) }
        let server = try startGrowth(directory)
        let client = RPCClient(host: "127.0.0.1", port: server.port)

        let tiers = try await client.unary(Retain_V1_Growth.getLevelTiers, .init())
        #expect(tiers.tiers.map(\.name) == ["Bronze", "Silver", "Gold", "Platinum", "Diamond"])
        #expect(tiers.tiers[2].privileges.first { $0.name == "free_shipping" }?.value == "2/month")
        #expect(tiers.configVersion.count == 16)

        // Standard rules: purchase gives 1 per 100 cents, capped at 1000 a day.
        let first = try await client.unary(Retain_V1_Growth.awardGrowth, award("ann", "purchase", key: "order-1", value: 60_000, at: day))
        #expect(first.awardedGrowth == 600 && first.levelledUp && first.fromLevel == 1 && first.toLevel == 2)
        #expect(first.levelName == "Silver" && first.levelEventPosition == 1 && first.localDate == "2025-03-10")
        #expect(first.completedTasks.map(\.taskId) == ["first_purchase"])
        let capped = try await client.unary(
            Retain_V1_Growth.awardGrowth, award("ann", "purchase", key: "order-2", value: 60_000, at: day + 1))
        #expect(capped.awardedGrowth == 400 && capped.limit == .actionDailyCap && capped.totalGrowth == 1000)
        let retry = try await client.unary(Retain_V1_Growth.awardGrowth, award("ann", "purchase", key: "order-1", value: 60_000, at: day))
        #expect(retry.replayed && retry.awardedGrowth == 600 && retry.totalGrowth == 600)
        let reused = await statusOf {
            _ = try await client.unary(Retain_V1_Growth.awardGrowth, award("ann", "purchase", key: "order-1", value: 1, at: day))
        }
        #expect(reused?.code == .alreadyExists)

        let checkIn = try await client.unary(Retain_V1_Growth.checkIn, .init(userId: "ann", timeZone: "Europe/Berlin", atMs: day))
        #expect(checkIn.streakDays == 1 && checkIn.awardedGrowth == 5 && checkIn.totalGrowth == 1005)
        let twice = try await client.unary(Retain_V1_Growth.checkIn, .init(userId: "ann", atMs: day + 3_600_000))
        #expect(twice.alreadyCheckedIn && twice.totalGrowth == 1005)

        let claim = try await client.unary(
            Retain_V1_Growth.claimTaskReward,
            .init(userId: "ann", taskId: "first_purchase", idempotencyKey: "claim-1", atMs: day))
        #expect(claim.claimId == "task:ann:first_purchase:once" && claim.reward?.value == 200 && !claim.alreadyClaimed)
        let tasks = try await client.unary(Retain_V1_Growth.listTasks, .init(userId: "ann", atMs: day + 1))
        #expect(tasks.tasks.map(\.taskId) == ["first_purchase", "daily_check_in", "weekly_posts", "weekly_check_ins"])
        #expect(tasks.tasks[0].claimed && tasks.tasks[1].completed && tasks.tasks[3].progress == 1)

        let view = try await client.unary(Retain_V1_Growth.getGrowthView, .init(userId: "ann", atMs: day + 1))
        #expect(view.totalGrowth == 1005 && view.level?.name == "Silver" && view.nextLevel?.name == "Gold")
        #expect(view.growthToNext == 995 && view.streakDays == 1 && view.checkedInToday && view.todayGrowth == 1005)
        #expect(view.recentCheckInDates == ["2025-03-10"] && view.weekGrowth == 1005)
        let empty = try await client.unary(Retain_V1_Growth.getGrowthView, .init(userId: "nobody"))
        #expect(empty.totalGrowth == 0 && empty.level?.level == 1 && empty.growthToNext == 500)

        for (user, value) in [("bo", 30_000), ("cy", 30_000), ("di", 10_000)] {
            _ = try await client.unary(Retain_V1_Growth.awardGrowth, award(user, "purchase", key: "k", value: Int64(value), at: day + 5))
        }
        let board = try await client.unary(Retain_V1_Growth.getLeaderboard, .init(limit: 3))
        #expect(board.entries.map(\.userId) == ["ann", "bo", "cy"] && board.entries.map(\.rank) == [1, 2, 2])
        #expect(board.totalUsers == 4)
        let weekly = try await client.unary(Retain_V1_Growth.getLeaderboard, .init(board: .weekly, atMs: day))
        #expect(weekly.entries.count == 4 && weekly.periodStartMs == utc(2025, 3, 10))
        let rank = try await client.unary(Retain_V1_Growth.getRank, .init(userId: "cy", neighbours: 1))
        #expect(rank.rank == 2 && rank.entries.map(\.userId) == ["bo", "cy", "di"])

        let summary = try await client.unary(
            Retain_V1_Growth.getGrowthSummary,
            .init(userId: "ann", range: .init(startMs: utc(2025, 3, 1), endMs: utc(2025, 4, 1))))
        #expect(summary.growthEarned == 1005 && summary.byAction.map(\.action) == ["purchase", "check_in"], "\(summary)")
        #expect(summary.levelAtStart == 1 && summary.levelAtEnd == 2 && summary.levelChanges.count == 1)
        #expect(summary.tasksCompleted == 2 && summary.tasksClaimed == 1 && summary.checkInDays == 1)

        await client.close()
        #expect(server.stop() == 0)
    }

    @Test("invalid requests are INVALID_ARGUMENT naming the field")
    func invalidArguments() async throws {
        let directory = try makeTemporaryDirectory("growth")
        defer { try? FileManager.default.removeItem(at: directory) }
        let server = try startGrowth(directory)
        let client = RPCClient(host: "127.0.0.1", port: server.port)
        let cases: [(String, () async throws -> Void)] = [
            ("user_id", { _ = try await client.unary(Retain_V1_Growth.awardGrowth, award("", "login", key: "k", at: day)) }),
            ("user_id", { _ = try await client.unary(Retain_V1_Growth.awardGrowth, award("a:b", "login", key: "k", at: day)) }),
            ("action", { _ = try await client.unary(Retain_V1_Growth.awardGrowth, award("u", "Log In", key: "k", at: day)) }),
            ("action", { _ = try await client.unary(Retain_V1_Growth.awardGrowth, award("u", "check_in", key: "k", at: day)) }),
            ("idempotency_key", { _ = try await client.unary(Retain_V1_Growth.awardGrowth, award("u", "login", key: "", at: day)) }),
            ("value", { _ = try await client.unary(Retain_V1_Growth.awardGrowth, award("u", "login", key: "k", value: -1, at: day)) }),
            (
                "time_zone",
                { _ = try await client.unary(Retain_V1_Growth.awardGrowth, award("u", "login", key: "k", at: day, zone: "Mars/Base")) }
            ),
            ("time_zone", { _ = try await client.unary(Retain_V1_Growth.checkIn, .init(userId: "u", timeZone: "nowhere")) }),
            ("limit", { _ = try await client.unary(Retain_V1_Growth.getLeaderboard, .init(limit: 1001)) }),
            ("neighbours", { _ = try await client.unary(Retain_V1_Growth.getRank, .init(userId: "u", neighbours: 51)) }),
            (
                "range.end_ms",
                {
                    _ = try await client.unary(Retain_V1_Growth.getGrowthSummary, .init(userId: "u", range: .init(startMs: 10, endMs: 5)))
                }
            ),
            (
                "period_key",
                {
                    _ = try await client.unary(
                        Retain_V1_Growth.claimTaskReward,
                        .init(userId: "u", taskId: "weekly_posts", periodKey: "2025-13-01", idempotencyKey: "c"))
                }
            ),
        ]
        for (field, call) in cases {
            let error = await statusOf(call)
            #expect(error?.code == .invalidArgument && error?.details["field"] == field, "\(field): \(String(describing: error))")
        }
        let unknownTask = await statusOf {
            _ = try await client.unary(Retain_V1_Growth.claimTaskReward, .init(userId: "u", taskId: "nope", idempotencyKey: "c"))
        }
        #expect(unknownTask?.code == .notFound)
        await client.close()
        server.stop()
    }

    @Test("without client times allowed, a future time is refused and an old one counts as now")
    func clockSkew() async throws {
        let directory = try makeTemporaryDirectory("growth")
        defer { try? FileManager.default.removeItem(at: directory) }
        let server = try ServerProcess("retain-growth", arguments: ["serve", "--data-dir", directory.path, "--log-level", "warning"])
        let client = RPCClient(host: "127.0.0.1", port: server.port)
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let future = await statusOf {
            _ = try await client.unary(Retain_V1_Growth.awardGrowth, award("u", "login", key: "f", at: now + 3_600_000))
        }
        #expect(future?.code == .invalidArgument && future?.details["field"] == "occurred_at_ms")
        let old = try await client.unary(Retain_V1_Growth.awardGrowth, award("u", "login", key: "o", at: now - 3 * 86_400_000))
        let today = try await client.unary(Retain_V1_Growth.checkIn, .init(userId: "u", atMs: now - 3 * 86_400_000))
        #expect(old.localDate == today.localDate && old.awardedGrowth == 5)
        #expect(old.localDate == CivilDate.string(CivilDate.utcDay(ms: Int64(Date().timeIntervalSince1970 * 1000))))
        await client.close()
        server.stop()
    }

    @Test("a configuration file with a bad entry stops the server naming the entry")
    func badConfiguration() throws {
        let directory = try makeTemporaryDirectory("growth")
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("growth.json")
        try Data(#"{"tiers": [{"name": "A", "min_growth": 0}, {"name": "B", "min_growth": 0}], "actions": []}"#.utf8).write(to: file)
        do {
            _ = try startGrowth(directory.appendingPathComponent("data"), ["--config", file.path])
            Issue.record("the server started with a bad configuration")
        } catch {
            #expect("\(error)".contains("tiers[1].min_growth: 0 must be greater than tiers[0].min_growth (0)"))
        }
    }
}
