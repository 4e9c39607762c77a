/// Users per registration day, acquisition channel and funnel stage (registered only,
/// activated, purchased without activation, activated and purchased), moved from stage to
/// stage as activity arrives, so that a funnel report costs the days it covers, not the users.
package struct FunnelCounts: Sendable, Equatable {
    /// Bit 0: activated; bit 1: has purchased.
    package typealias Stage = Int

    /// Per channel symbol: one series of users by registration day per stage.
    package private(set) var channels: [Int32: [DaySeries]] = [:]

    package init() {}

    /// Moves a user registered on `day` through `channel` from stage `from` to stage `to` (nil:
    /// not counted, i.e. not registered or deleted).
    package mutating func move(channel: Int32, registrationDay day: Int32, from: Stage?, to: Stage?) {
        guard from != to else { return }
        var series = channels.removeValue(forKey: channel) ?? [DaySeries](repeating: DaySeries(), count: 4)
        if let from { series[from].add(-1, on: day) }
        if let to { series[to].add(1, on: day) }
        channels[channel] = series
    }

    /// The users of `channel` registered on days `first` through `last`, per stage.
    package func users(channel: Int32, from first: Int32, through last: Int32) -> [Int64] {
        guard let series = channels[channel] else { return [0, 0, 0, 0] }
        return series.map { $0.sum(from: first, through: last) }
    }

    /// The channels with counts.
    package var channelSymbols: [Int32] { Array(channels.keys) }

    /// Forgets every count.
    package mutating func removeAll() { channels = [:] }
}
