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
}
