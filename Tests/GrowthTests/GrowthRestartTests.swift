import Foundation
import RetainProcess
import RetainProto
import RetainRPC
import RetainWire
import Testing

/// Restarts of the real `retain-growth`: nothing acknowledged is lost, and followers of the
/// level-change stream resume where they were.
@Suite("Growth restarts over TCP", .serialized)
struct GrowthRestartTests {
    let day = utc(2025, 3, 10, 9)

    func award(
        _ user: String, _ action: String, key: String, value: Int64 = 0, at: Int64
    )
        -> Retain_V1_AwardGrowthRequest
    {
        Retain_V1_AwardGrowthRequest(userId: user, action: action, idempotencyKey: key, value: value, occurredAtMs: at)
    }

    /// What clients can see, to compare across restarts.
    func observe(_ client: RPCClient, users: [String], at ms: Int64) async throws -> [String] {
        var seen: [String] = []
        for user in users {
            seen.append("\(try await client.unary(Retain_V1_Growth.getGrowthView, .init(userId: user, atMs: ms)))")
            seen.append("\(try await client.unary(Retain_V1_Growth.getRank, .init(userId: user, board: .weekly, atMs: ms)))")
        }
        seen.append("\(try await client.unary(Retain_V1_Growth.getLeaderboard, .init(limit: 100)))")
        return seen
    }

    @Test("acknowledged awards, check-ins and claims survive SIGTERM and SIGKILL, and retries still replay")
    func restarts() async throws {
        let directory = try makeTemporaryDirectory("growth")
        defer { try? FileManager.default.removeItem(at: directory) }
        let users = (0..<20).map { "user-\($0)" }
        var server = try startGrowth(directory)
        var client = RPCClient(host: "127.0.0.1", port: server.port)
        var firstAnswers: [Retain_V1_AwardGrowthResponse] = []
        for (index, user) in users.enumerated() {
            for offset in 0..<3 {
                let at = day + Int64(offset) * dayMs
                _ = try await client.unary(Retain_V1_Growth.checkIn, .init(userId: user, timeZone: "Asia/Shanghai", atMs: at))
                let answer = try await client.unary(
                    Retain_V1_Growth.awardGrowth,
                    award(user, "purchase", key: "o\(offset)", value: Int64(index * 5_000), at: at))
                if offset == 0 { firstAnswers.append(answer) }
            }
        }
        _ = try await client.unary(
            Retain_V1_Growth.claimTaskReward,
            .init(userId: "user-3", taskId: "first_purchase", idempotencyKey: "claim", atMs: day))
        let before = try await observe(client, users: users, at: day + 2 * dayMs)
        await client.close()
        #expect(server.stop() == 0)

        server = try startGrowth(directory)
        client = RPCClient(host: "127.0.0.1", port: server.port)
        #expect(try await observe(client, users: users, at: day + 2 * dayMs) == before)
        for (index, user) in users.enumerated() {
            var expected = firstAnswers[index]
            expected.replayed = true
            let retry = try await client.unary(
                Retain_V1_Growth.awardGrowth,
                award(user, "purchase", key: "o0", value: Int64(index * 5_000), at: day))
            #expect(retry == expected)
        }
        let claimAgain = try await client.unary(
            Retain_V1_Growth.claimTaskReward,
            .init(userId: "user-3", taskId: "first_purchase", idempotencyKey: "other", atMs: day))
        #expect(claimAgain.alreadyClaimed && claimAgain.claimId == "task:user-3:first_purchase:once")

        // More writes, then a crash: every acknowledged write is there after the restart.
        for user in users {
            _ = try await client.unary(Retain_V1_Growth.awardGrowth, award(user, "post", key: "p", at: day + 3 * dayMs))
            _ = try await client.unary(Retain_V1_Growth.checkIn, .init(userId: user, atMs: day + 3 * dayMs))
        }
        let beforeCrash = try await observe(client, users: users, at: day + 3 * dayMs)
        await client.close()
        server.kill()

        server = try startGrowth(directory)
        client = RPCClient(host: "127.0.0.1", port: server.port)
        #expect(try await observe(client, users: users, at: day + 3 * dayMs) == beforeCrash)
        let view = try await client.unary(Retain_V1_Growth.getGrowthView, .init(userId: "user-7", atMs: day + 3 * dayMs))
        #expect(view.streakDays == 4 && view.longestStreak == 4)
        await client.close()
        server.stop()
    }

    @Test("the level-change stream replays from a position, follows new events and resumes after restarts")
    func levelStream() async throws {
        let directory = try makeTemporaryDirectory("growth")
        defer { try? FileManager.default.removeItem(at: directory) }
        var server = try startGrowth(directory)
        var client = RPCClient(host: "127.0.0.1", port: server.port)
        // Standard rules: 600 growth reaches Silver (500): one event each.
        for user in ["a", "b", "c"] {
            let answer = try await client.unary(Retain_V1_Growth.awardGrowth, award(user, "purchase", key: "k", value: 60_000, at: day))
            #expect(answer.levelledUp)
        }

        let fromStart = LevelStream(client, .init(afterPosition: 0))
        #expect(await fromStart.waitForEvents(3))
        #expect(fromStart.events.map(\.position) == [1, 2, 3])
        #expect(fromStart.events.map(\.userId) == ["a", "b", "c"])
        let first = try #require(fromStart.messages.first)
        #expect(first.event == nil && first.headPosition == 3 && !first.streamId.isEmpty)
        let streamID = first.streamId

        let fromTwo = LevelStream(client, .init(afterPosition: 2))
        let fromEnd = LevelStream(client, .init(fromEnd: true))
        #expect(await eventually { fromEnd.messages.count >= 1 })
        let live = try await client.unary(Retain_V1_Growth.awardGrowth, award("d", "purchase", key: "k", value: 60_000, at: day))
        #expect(live.levelEventPosition == 4)
        #expect(await fromStart.waitForEvents(4))
        #expect(await fromTwo.waitForEvents(2))
        #expect(await fromEnd.waitForEvents(1))
        #expect(fromStart.events.map(\.position) == [1, 2, 3, 4])
        #expect(fromTwo.events.map(\.position) == [3, 4])
        #expect(fromEnd.events.map(\.position) == [4] && fromEnd.events[0].causeAction == "purchase")
        // Idle streams get heartbeats (every 300 ms here).
        let count = fromEnd.messages.count
        #expect(await eventually { fromEnd.messages.count >= count + 2 })
        #expect(fromEnd.messages.last?.event == nil && fromEnd.messages.last?.headPosition == 4)

        let beyond = await statusOf {
            for try await _ in client.serverStreaming(Retain_V1_Growth.watchLevelChanges, .init(afterPosition: 99)) {}
        }
        #expect(beyond?.code == .outOfRange)

        // A graceful stop ends open streams with UNAVAILABLE and does not wait for them.
        await client.close()
        let stopping = ContinuousClock.now
        #expect(server.stop() == 0)
        // The drain timeout is 10 s: a stop well under it did not wait for the open streams.
        #expect(ContinuousClock.now - stopping < .seconds(9))
        #expect(await eventually { fromStart.error != nil })
        fromStart.cancel()
        fromTwo.cancel()
        fromEnd.cancel()

        server = try startGrowth(directory)
        client = RPCClient(host: "127.0.0.1", port: server.port)
        let resumed = LevelStream(client, .init(afterPosition: 3))
        #expect(await resumed.waitForEvents(1))
        #expect(resumed.messages.first?.streamId == streamID)
        _ = try await client.unary(Retain_V1_Growth.checkIn, .init(userId: "a", atMs: day + dayMs))
        let crossing = try await client.unary(
            Retain_V1_Growth.awardGrowth,
            award("a", "purchase", key: "k2", value: 100_000, at: day + dayMs))
        #expect(crossing.levelEventPosition == 0)  // 1605: still Silver
        let gold = try await client.unary(
            Retain_V1_Growth.awardGrowth, award("a", "purchase", key: "k3", value: 100_000, at: day + 2 * dayMs))
        #expect(gold.levelledUp && gold.toLevel == 3 && gold.levelEventPosition == 5)
        #expect(await resumed.waitForEvents(2))
        #expect(resumed.events.map(\.position) == [4, 5])

        // A crash after the event was acknowledged: a follower resumes with it.
        await client.close()
        server.kill()
        resumed.cancel()
        server = try startGrowth(directory)
        client = RPCClient(host: "127.0.0.1", port: server.port)
        let afterCrash = LevelStream(client, .init(afterPosition: 4))
        #expect(await afterCrash.waitForEvents(1))
        #expect(afterCrash.events.map(\.position) == [5] && afterCrash.events[0].toLevelName == "Gold")
        #expect(afterCrash.messages.first?.streamId == streamID && afterCrash.messages.first?.headPosition == 5)
        afterCrash.cancel()
        await client.close()
        server.stop()
    }
}
