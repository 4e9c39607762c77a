/// Daily, weekly and monthly active users per acquisition channel, counted as activity arrives
/// so that a report costs the days it covers, not the users.
///
/// A user is active in the window of width w (1, 7 or 30 days) ending on day t when one of
/// their active days lies in t-w+1...t. When a user gets a new active day d, the days t that
/// become covered are those from d on, up to d+w-1, that no other active day of theirs covered
/// already: from max(d, p+w) through min(d+w-1, n-1), with p the latest active day before d and
/// n the earliest after it. Each window keeps the counts as differences (+1 where such a run
/// starts, -1 the day after it ends), so that a new active day costs two additions per window
/// and the count of a day is the sum of the differences up to it.
package struct ActiveUserCounts: Sendable, Equatable {
    /// The window widths, in days: DAU, WAU, MAU.
    package static let widths: [Int32] = [1, 7, 30]
    /// The days before and after a new active day that change what it adds (the widest window
    /// less one).
    package static let reach: Int32 = 29

    /// Per channel symbol: one difference series per window (``widths`` order).
    package private(set) var channels: [Int32: [DaySeries]] = [:]

    package init() {}

    /// Records that a user of `channel` became active on `day`, their nearest other active days
    /// being `previous` (before it) and `next` (after it), nil when none lies within ``reach``;
    /// `delta` -1 takes the same day out again (a user moving to another shard).
    package mutating func addActiveDay(_ day: Int32, channel: Int32, previous: Int32?, next: Int32?, delta: Int32 = 1) {
        var series = channels.removeValue(forKey: channel) ?? [DaySeries](repeating: DaySeries(), count: Self.widths.count)
        for (window, width) in Self.widths.enumerated() {
            var start = day
            if let previous { start = max(start, previous + width) }
            var end = day + width - 1
            if let next { end = min(end, next - 1) }
            guard start <= end else { continue }
            series[window].add(delta, on: start)
            series[window].add(-delta, on: end + 1)
        }
        channels[channel] = series
    }

    /// The active users of `channel` on each day `first` through `last`: DAU, WAU, MAU.
    package func counts(channel: Int32, from first: Int32, through last: Int32) -> [(dau: Int64, wau: Int64, mau: Int64)] {
        guard first <= last else { return [] }
        var result = [(dau: Int64, wau: Int64, mau: Int64)](repeating: (0, 0, 0), count: Int(last - first) + 1)
        guard let series = channels[channel] else { return result }
        for (window, differences) in series.enumerated() {
            var running = differences.sum(through: first - 1)
            for offset in result.indices {
                running += Int64(differences.value(on: first + Int32(offset)))
                switch window {
                case 0: result[offset].dau = running
                case 1: result[offset].wau = running
                default: result[offset].mau = running
                }
            }
        }
        return result
    }

    /// The channels with counts.
    package var channelSymbols: [Int32] { Array(channels.keys) }

    /// Restores one channel's series (from a snapshot).
    package mutating func restore(channel: Int32, series: [DaySeries]) {
        channels[channel] = series
    }

    /// Forgets every count.
    package mutating func removeAll() { channels = [:] }
}
