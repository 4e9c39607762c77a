import ConsoleCore
import RetainProto
import Testing

/// The Levels page counts users per tier from Growth's level-change events.
@Suite struct LevelDistributionTests {
    @Test func latestEventPerUserDecidesAndTheRestAreAtLevelOne() {
        var distribution = LevelDistribution()
        distribution.fold(.init(position: 1, userId: "a", fromLevel: 1, toLevel: 2))
        distribution.fold(.init(position: 2, userId: "b", fromLevel: 1, toLevel: 2))
        distribution.fold(.init(position: 3, userId: "a", fromLevel: 2, toLevel: 3))
        distribution.fold(.init(position: 2, userId: "c", fromLevel: 1, toLevel: 5))  // older than the last: ignored
        #expect(distribution.counts(tiers: [1, 2, 3, 4], registered: 10) == [8, 1, 1, 0])
        #expect(distribution.counts(tiers: [1, 2, 3, 4], registered: 0) == [0, 1, 1, 0])
    }
}
