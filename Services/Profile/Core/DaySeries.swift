/// One 32-bit figure per local day, for a contiguous run of days that grows on demand in both
/// directions (days never written read 0). The counters of ``ActiveUserCounts`` and
/// ``FunnelCounts`` are kept in these.
package struct DaySeries: Sendable, Equatable {
    /// The day of `values[0]`.
    package private(set) var firstDay: Int32 = 0
    /// The figures, one per day from ``firstDay``.
    package private(set) var values: [Int32] = []

    /// An empty series.
    package init() {}

    /// A series restored from a snapshot.
    package init(firstDay: Int32, values: [Int32]) {
        self.firstDay = firstDay
        self.values = values
    }

    /// The day after the last one held.
    package var endDay: Int32 { firstDay + Int32(values.count) }

    /// Adds `delta` to the figure of `day`.
    package mutating func add(_ delta: Int32, on day: Int32) {
        if values.isEmpty {
            firstDay = day
            values = [delta]
            return
        }
        if day < firstDay {
            // Late events reach back a few days at a time: grow by half again at least, so that
            // prepending stays amortised O(1).
            let grow = max(Int(firstDay - day), values.count / 2, 16)
            values.insert(contentsOf: repeatElement(0, count: grow), at: 0)
            firstDay -= Int32(grow)
        } else if day >= endDay {
            values.append(contentsOf: repeatElement(0, count: Int(day - endDay) + 1))
        }
        values[Int(day - firstDay)] &+= delta
    }

    /// The figure of `day` (0 outside the days held).
    package func value(on day: Int32) -> Int32 {
        guard day >= firstDay, day < endDay else { return 0 }
        return values[Int(day - firstDay)]
    }

    /// The sum of the figures of the days up to and including `day`.
    package func sum(through day: Int32) -> Int64 {
        guard !values.isEmpty, day >= firstDay else { return 0 }
        let last = min(Int(day - firstDay), values.count - 1)
        var sum: Int64 = 0
        for index in 0...last { sum += Int64(values[index]) }
        return sum
    }

    /// The sum of the figures of the days `first` through `last`.
    package func sum(from first: Int32, through last: Int32) -> Int64 {
        guard !values.isEmpty, first <= last else { return 0 }
        let low = max(Int64(first), Int64(firstDay)) - Int64(firstDay)
        let high = min(Int64(last), Int64(endDay) - 1) - Int64(firstDay)
        guard low <= high else { return 0 }
        var sum: Int64 = 0
        for index in Int(low)...Int(high) { sum += Int64(values[index]) }
        return sum
    }
}
