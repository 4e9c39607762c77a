public import RetainProto

/// Users per level, folded from Growth's level-change events: each user's latest event gives
/// their level; registered users with no event are at level 1 (every user starts in the lowest
/// tier, and growth is never taken away).
///
/// Growth has no "count users per level" call; its event stream is the one complete record of
/// who reached which level, so the console replays it (see docs/CONSOLE.md for the cost).
public struct LevelDistribution: Sendable, Hashable {
    /// Each user's level after their latest event.
    public private(set) var levels: [String: UInt32] = [:]
    /// The position of the last event folded.
    public private(set) var position: UInt64 = 0

    public init() {}

    /// Folds one event (events arrive in position order; an older one changes nothing).
    public mutating func fold(_ event: Retain_V1_LevelChangeEvent) {
        guard event.position > position else { return }
        position = event.position
        levels[event.userId] = event.toLevel
    }

    /// Users per level for `tiers` (level numbers, lowest first), given `registered` users in
    /// all: those without an event count at the lowest tier.
    public func counts(tiers: [UInt32], registered: UInt64) -> [UInt64] {
        var counts = Array(repeating: UInt64(0), count: tiers.count)
        var index: [UInt32: Int] = [:]
        for (position, level) in tiers.enumerated() { index[level] = position }
        var above: UInt64 = 0
        for level in levels.values {
            guard let position = index[level] else { continue }
            counts[position] += 1
            above += 1
        }
        if !counts.isEmpty {
            // Users whose latest event left them at level 1 are counted there already.
            let atLowest = counts[0]
            counts[0] = max(atLowest, registered > above - atLowest ? registered - (above - atLowest) : atLowest)
        }
        return counts
    }
}
