@testable import GrowthCore
import GrowthService
import RetainProto
import RetainWire
import Testing

@Suite("tasks and their periods")
struct TaskTests {
    func task(_ state: GrowthState, _ user: String, _ id: String, at ms: Int64, zone: String = "") -> Retain_V1_TaskStatus {
        state.tasks(userID: user, timeZone: zone, at: ms, rules: testRules).first { $0.taskId == id }!
    }

    @Test("a daily task finishes with the award that reaches its target and starts over the next local day")
    func dailyRollsOver() throws {
        var state = GrowthState()
        let zone = "Europe/Berlin"
        let answer = try state.award("u", "login", key: "l1", at: local(zone, 2025, 3, 10, 23, 30), zone: zone)
        #expect(answer.completedTasks.map(\.taskId) == ["daily_login"])
        #expect(answer.completedTasks[0].claimId == "task:u:daily_login:2025-03-10")
        let today = task(state, "u", "daily_login", at: local(zone, 2025, 3, 10, 23, 59))
        #expect(today.completed && today.progress == 1 && today.periodKey == "2025-03-10")
        #expect(today.periodStartMs == local(zone, 2025, 3, 10) && today.periodEndMs == local(zone, 2025, 3, 11))
        // 00:10 Berlin on the 11th is still the 10th in UTC: the task is new all the same.
        let tomorrow = task(state, "u", "daily_login", at: local(zone, 2025, 3, 11, 0, 10))
        #expect(!tomorrow.completed && tomorrow.progress == 0 && tomorrow.periodKey == "2025-03-11" && tomorrow.claimId.isEmpty)
    }

    @Test("a weekly task counts within an ISO week of the user's zone and starts over on Monday")
    func weeklyRollsOver() throws {
        var state = GrowthState()
        let zone = "Asia/Tokyo"
        // Posts on Monday, Wednesday and Sunday 23:00 of 2025-W11 finish it.
        try state.award("u", "post", key: "p1", at: local(zone, 2025, 3, 10, 9), zone: zone)
        try state.award("u", "post", key: "p2", at: local(zone, 2025, 3, 12, 9))
        #expect(task(state, "u", "weekly_posts", at: local(zone, 2025, 3, 12, 10)).progress == 2)
        let third = try state.award("u", "post", key: "p3", at: local(zone, 2025, 3, 16, 23))
        #expect(third.completedTasks.map(\.periodKey) == ["2025-W11"])
        // Monday 00:30 in Tokyo (Sunday in UTC) is a new week with no progress.
        let next = task(state, "u", "weekly_posts", at: local(zone, 2025, 3, 17, 0, 30))
        #expect(next.periodKey == "2025-W12" && next.progress == 0 && !next.completed)
        #expect(next.periodStartMs == local(zone, 2025, 3, 17) && next.periodEndMs == local(zone, 2025, 3, 24))
    }

    @Test("a once task never starts over, and progress stops at the target")
    func onceTask() throws {
        var state = GrowthState()
        try state.award("u", "purchase", key: "b1", value: 500, at: utc(2025, 3, 10))
        let later = try state.award("u", "purchase", key: "b2", value: 500, at: utc(2025, 6, 1))
        #expect(later.completedTasks.isEmpty)
        let status = task(state, "u", "first_purchase", at: utc(2026, 1, 1))
        #expect(status.completed && status.progress == 1 && status.periodKey == "once" && status.periodStartMs == 0)
    }

    @Test("a reward is claimed once; claiming again with another key returns the first claim")
    func claimOnce() throws {
        var state = GrowthState()
        let at = utc(2025, 3, 10, 12)
        try state.award("u", "login", key: "l1", at: at)
        let first = try state.claim("u", "daily_login", key: "c1", at: at + 1)
        #expect(!first.alreadyClaimed && first.claimId == "task:u:daily_login:2025-03-10" && first.reward?.value == 5)
        #expect(first.task?.claimed == true && first.task?.claimedAtMs == at + 1)
        let again = try state.claim("u", "daily_login", key: "c2", at: at + 2)
        #expect(again.alreadyClaimed && again.claimId == first.claimId && again.task?.claimedAtMs == at + 1)
        let retry = try state.claim("u", "daily_login", key: "c1", at: at + 1)
        #expect(retry.alreadyClaimed && retry.claimId == first.claimId)
        #expect(task(state, "u", "daily_login", at: at + 3).claimed)
    }

    @Test("claims are refused for unknown tasks, unfinished tasks, future periods and closed windows")
    func claimRefusals() throws {
        var state = GrowthState()
        let at = utc(2025, 3, 10, 12)
        try state.award("u", "post", key: "p1", at: at)
        var code: RPCStatusCode?
        func status(_ body: () throws -> Void) -> RPCStatusCode? {
            do {
                try body()
                return nil
            } catch let error as GrowthError {
                return error.status.code
            } catch {
                return .unknown
            }
        }
        code = status { try state.claim("u", "no_such_task", key: "k", at: at) }
        #expect(code == .notFound)
        code = status { try state.claim("u", "weekly_posts", key: "k", at: at) }
        #expect(code == .failedPrecondition)
        code = status { try state.claim("u", "weekly_posts", period: "2025-W13", key: "k", at: at) }
        #expect(code == .notFound)
        code = status { try state.claim("u", "weekly_posts", period: "2025-03-10", key: "k", at: at) }
        #expect(code == .invalidArgument)
        // A past period that was never finished.
        code = status { try state.claim("u", "weekly_posts", period: "2025-W10", key: "k", at: at) }
        #expect(code == .failedPrecondition)
        // A finished daily period can be claimed for 7 days after it ends, not later.
        try state.award("u", "login", key: "l1", at: at)
        code = status { try state.claim("u", "daily_login", period: "2025-03-10", key: "k1", at: utc(2025, 3, 17, 23)) }
        #expect(code == nil)
        try state.award("v", "login", key: "l1", at: at)
        code = status { try state.claim("v", "daily_login", period: "2025-03-10", key: "k1", at: utc(2025, 3, 18, 0, 1)) }
        #expect(code == .failedPrecondition)
    }

    @Test("check-ins advance tasks on the action check_in, and every award counts even when capped")
    func checkInAndCappedAwardsCount() throws {
        var state = GrowthState()
        let answer = try state.checkIn("u", at: utc(2025, 3, 10, 8))
        #expect(answer.completedTasks.map(\.taskId) == ["daily_check_in"])
        for index in 0..<4 { try state.award("u", "post", key: "p\(index)", at: utc(2025, 3, 10, 9)) }
        #expect(task(state, "u", "weekly_posts", at: utc(2025, 3, 10, 10)).completed)
    }
}
