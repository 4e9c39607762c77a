/// Retention counted as it happens, so that a report reads counters instead of every user: per
/// (registration day, acquisition channel) the users registered that day (not deleted) and, for
/// each day N after registration, how many of them were active on their day N (any event) and
/// how many logged in on it. The counts mirror the activity summaries' retention bits exactly:
/// a bit that turns on adds one, a user who leaves (deleted, moved away) takes its bits out.
///
/// It also lists the users registered on each day, so that a day a report cannot take whole (a
/// range or an as-of time inside it) is counted from those users alone.
package struct RetentionCounts: Sendable {
    /// One (registration day, channel) cell.
    package struct Bucket: Sendable {
        /// Users registered that day through the channel, not deleted.
        package var users: UInt32 = 0
        /// Index N: of them, those active on day N after registration.
        package var active: [UInt32] = []
        /// Index N: of them, those who logged in on day N after registration.
        package var loggedIn: [UInt32] = []

        /// The count at day `n` of `series` (0 beyond it).
        package static func count(_ series: [UInt32], day n: Int) -> UInt32 {
            n >= 0 && n < series.count ? series[n] : 0
        }
    }

    /// (registration day, channel symbol) -> bucket; see ``key(day:channel:)``.
    package private(set) var buckets: [Int64: Bucket] = [:]
    /// Every channel symbol a bucket was made for.
    package private(set) var channels: Set<Int32> = []
    /// Registration day -> the indices of the users registered that day (deleted ones too).
    package private(set) var usersByDay: [Int32: [Int32]] = [:]

    package init() {}

    /// The key of a (registration day, channel) bucket.
    @inline(__always)
    package static func key(day: Int32, channel: Int32) -> Int64 {
        Int64(day) << 32 | Int64(UInt32(bitPattern: channel))
    }

    /// The bucket of users registered on `day` through `channel`, if any.
    package func bucket(day: Int32, channel: Int32) -> Bucket? {
        buckets[Self.key(day: day, channel: channel)]
    }

    /// Lists user `index`, registered on `day` (once, when it joins the state).
    package mutating func list(_ index: Int32, registeredOn day: Int32) {
        usersByDay[day, default: []].append(index)
    }

    /// Counts a user who joins the reports (`sign` 1) or leaves them (-1): the user, and every
    /// day its summary's retention bits hold.
    package mutating func count(_ summary: ActivitySummary, channel: Int32, sign: Int) {
        channels.insert(channel)
        // In place: a copy of the bucket would copy its series on every change.
        Self.count(summary, sign: sign, into: &buckets[Self.key(day: summary.registrationDay, channel: channel), default: Bucket()])
    }

    /// Counts day `n` of a counted user whose summary just turned on its activity bit
    /// (`active`) and/or its login bit (`loggedIn`) for that day.
    package mutating func returned(registrationDay: Int32, channel: Int32, day n: Int, active: Bool, loggedIn: Bool) {
        guard active || loggedIn, n >= 0, n < ActivitySummary.retentionDays else { return }
        // A counted user's channel was inserted when it was counted.
        Self.returned(
            day: n, active: active, loggedIn: loggedIn, into: &buckets[Self.key(day: registrationDay, channel: channel), default: Bucket()])
    }

    /// Forgets everything (before counting every user again).
    package mutating func removeAll() {
        buckets.removeAll()
        channels.removeAll()
        usersByDay.removeAll()
    }

    private static func count(_ summary: ActivitySummary, sign: Int, into bucket: inout Bucket) {
        bucket.users = UInt32(Int(bucket.users) + sign)
        add(summary.retention, to: &bucket.active, sign: sign)
        add(summary.loginRetention, to: &bucket.loggedIn, sign: sign)
    }

    private static func returned(day n: Int, active: Bool, loggedIn: Bool, into bucket: inout Bucket) {
        if active { increment(&bucket.active, at: n, by: 1) }
        if loggedIn { increment(&bucket.loggedIn, at: n, by: 1) }
    }

    private static func add(_ bits: InlineArray<6, UInt64>, to series: inout [UInt32], sign: Int) {
        for word in 0..<bits.count {
            var remaining = bits[word]
            while remaining != 0 {
                let bit = remaining.trailingZeroBitCount
                increment(&series, at: word * 64 + bit, by: sign)
                remaining &= remaining - 1
            }
        }
    }

    private static func increment(_ series: inout [UInt32], at n: Int, by delta: Int) {
        if n >= series.count { series.append(contentsOf: repeatElement(0, count: n + 1 - series.count)) }
        series[n] = UInt32(Int(series[n]) + delta)
    }
}
