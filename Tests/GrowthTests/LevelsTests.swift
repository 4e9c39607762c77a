@testable import GrowthCore
import RetainProto
import Testing

@Suite("levels of many users, now and as of a time")
struct LevelsTests {
    let monday = utc(2025, 3, 10, 9)
    let day: Int64 = 86_400_000

    @Test("GetLevels answers each user's total and tier, in order, and as of a time from the history")
    func levels() throws {
        var state = GrowthState()
        // u1: 300 growth (purchase 30,000) on Monday, 90 more (3 posts) on Tuesday; tiers 0 / 100 / 300.
        try state.award("u1", "purchase", key: "b1", value: 30_000, at: monday)
        for index in 0..<3 { try state.award("u1", "post", key: "p\(index)", at: monday + day) }
        try state.award("u2", "login", key: "l1", at: monday + day)
        let now = state.levels(userIDs: ["u2", "nobody", "u1"], asOf: nil, rules: testRules)
        #expect(now.map(\.userId) == ["u2", "nobody", "u1"])
        #expect(now.map(\.totalGrowth) == [10, 0, 120 + 90])
        #expect(now.map(\.level) == [1, 1, 2])
        // The daily cap cut the purchase to 120: as of Monday evening u1 had 120, as of Sunday nothing.
        let monday = state.levels(userIDs: ["u1", "u2"], asOf: self.monday + 10 * 3_600_000, rules: testRules)
        #expect(monday.map(\.totalGrowth) == [120, 0])
        #expect(monday.map(\.level) == [2, 1])
        let before = state.levels(userIDs: ["u1"], asOf: self.monday - 1, rules: testRules)
        #expect(before.first?.totalGrowth == 0 && before.first?.level == 1)
    }

    @Test("GetLevelDistribution counts users per tier now and as of a time, each from their first growth on")
    func distribution() throws {
        var state = GrowthState()
        try state.award("u1", "purchase", key: "b1", value: 30_000, at: monday)
        for index in 0..<3 { try state.award("u1", "post", key: "p\(index)", at: monday + day) }
        try state.award("u2", "login", key: "l1", at: monday + day)
        try state.award("u3", "purchase", key: "b3", value: 30_000, at: monday + 2 * day)
        let now = state.levelDistribution(asOf: nil, rules: testRules)
        #expect(now.levels.map { $0.tier?.level ?? 0 } == testRules.tiers.map(\.level))
        #expect(now.levels.map { $0.tier?.name ?? "" } == testRules.tiers.map(\.name))
        // u1 210 and u3 120 at level 2, u2 10 at level 1; the tiers carry their privileges.
        #expect(now.levels.map(\.users) == [1, 2] + Array(repeating: 0, count: testRules.tiers.count - 2))
        #expect(now.users == 3 && now.configVersion == testRules.version)
        #expect(now.levels.map { $0.tier?.privileges ?? [] } == testRules.tiers.map(\.privileges))
        // Monday evening: only u1 had growth (120, level 2); u2 and u3 were not Growth users yet.
        let monday = state.levelDistribution(asOf: self.monday + 10 * 3_600_000, rules: testRules)
        #expect(monday.users == 1 && monday.levels[1].users == 1 && monday.levels[0].users == 0)
        // The counts agree with GetLevels for the same users and time.
        let asOf = self.monday + day + 12 * 3_600_000
        let levels = state.levels(userIDs: ["u1", "u2"], asOf: asOf, rules: testRules)
        let counted = state.levelDistribution(asOf: asOf, rules: testRules)
        for tier in testRules.tiers {
            #expect(counted.levels[Int(tier.level) - 1].users == UInt64(levels.filter { $0.level == tier.level }.count))
        }
        #expect(GrowthState().levelDistribution(asOf: nil, rules: testRules).users == 0)
    }
}
