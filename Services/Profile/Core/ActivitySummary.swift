/// What Profile keeps of one user's activity instead of the events themselves: fixed size (360
/// bytes), no allocation.
///
/// - counters: events in all and per kind, the first and latest event times;
/// - `retention`: one bit per day since registration (day N after the registration day, N < 384),
///   for retention cohorts, and `loginRetention` the same for logins only (retention's default
///   return event);
/// - `window`: one bit per day for the 256 days that end on the latest active day (`headDay`),
///   plus the latest active day older than that (`olderActiveDay`), for lifecycle stages;
/// - `dailyEvents` / `dailyPurchases`: events and purchases per day for the 56 days that end on
///   `headDay` (a ring indexed by day modulo 56), for the recent and baseline rates.
///
/// Events may arrive in any order: an event older than the window still counts in the counters
/// and the retention bits, and moves `olderActiveDay`. Days are local days of the state's
/// activity time zone.
package struct ActivitySummary: Sendable {
    /// Days after registration covered by the retention bits.
    package static let retentionDays = 384
    /// Days covered by the sliding active-day bits.
    package static let windowDays = 256
    /// Days covered by the per-day counts.
    package static let ringDays = 56
    /// "No day".
    package static let noDay = Int32.min

    /// Latest event time, Unix ms; 0 when none.
    package var lastActiveMs: Int64 = 0
    /// Earliest event time, Unix ms; 0 when none.
    package var firstActiveMs: Int64 = 0
    /// Events recorded.
    package var eventCount: UInt32 = 0
    /// Events per kind (see ``ActivityKind``).
    package var kindCounts = InlineArray<8, UInt32>(repeating: 0)
    /// The registration's local day.
    package var registrationDay: Int32
    /// Latest day with activity, or ``noDay``.
    package var headDay: Int32 = noDay
    /// Latest active day that fell out of the sliding window, or ``noDay``.
    package var olderActiveDay: Int32 = noDay
    /// Bit N: activity on registration day + N.
    package var retention = InlineArray<6, UInt64>(repeating: 0)
    /// Bit N: a login on registration day + N.
    package var loginRetention = InlineArray<6, UInt64>(repeating: 0)
    /// Bit i: activity on headDay - i.
    package var window = InlineArray<4, UInt64>(repeating: 0)
    /// Events on day d at slot d mod 56, for d in (headDay - 56, headDay]; saturates at 65535.
    package var dailyEvents = InlineArray<56, UInt16>(repeating: 0)
    /// Purchases on day d at slot d mod 56; saturates at 255.
    package var dailyPurchases = InlineArray<56, UInt8>(repeating: 0)

    /// A summary with no activity for a user registered on `registrationDay`.
    package init(registrationDay: Int32) {
        self.registrationDay = registrationDay
    }

    /// Whether any activity was recorded.
    package var hasActivity: Bool { headDay != Self.noDay }

    // MARK: Recording

    /// Counts one event of counter `kind` at `atMs`, on local day `day`.
    package mutating func record(day: Int32, atMs: Int64, kind: Int) {
        eventCount &+= eventCount == .max ? 0 : 1
        kindCounts[kind] &+= kindCounts[kind] == .max ? 0 : 1
        if lastActiveMs == 0 || atMs > lastActiveMs { lastActiveMs = atMs }
        if firstActiveMs == 0 || atMs < firstActiveMs { firstActiveMs = atMs }
        let sinceRegistration = Int64(day) - Int64(registrationDay)
        if sinceRegistration >= 0, sinceRegistration < Int64(Self.retentionDays) {
            retention[Int(sinceRegistration) >> 6] |= 1 << UInt64(sinceRegistration & 63)
            if kind == ActivityKind.login { loginRetention[Int(sinceRegistration) >> 6] |= 1 << UInt64(sinceRegistration & 63) }
        }
        if headDay == Self.noDay {
            headDay = day
        } else if day > headDay {
            advance(to: day)
        }
        let age = Int64(headDay) - Int64(day)
        if age < Int64(Self.windowDays) {
            window[Int(age) >> 6] |= 1 << UInt64(age & 63)
        } else if day > olderActiveDay {
            olderActiveDay = day
        }
        if age < Int64(Self.ringDays) {
            let slot = Self.slot(day)
            if dailyEvents[slot] < .max { dailyEvents[slot] += 1 }
            if kind == ActivityKind.purchase, dailyPurchases[slot] < .max { dailyPurchases[slot] += 1 }
        }
    }

    /// Moves `headDay` forward to `day`: shifts the window, remembering the latest day that falls
    /// out of it, and clears the ring slots of the days in between.
    private mutating func advance(to day: Int32) {
        let shift = Int(Int64(day) - Int64(headDay))
        let firstDropped = max(0, Self.windowDays - shift)
        if let index = lowestSetBit(from: firstDropped) {
            let dropped = headDay - Int32(index)
            if dropped > olderActiveDay { olderActiveDay = dropped }
        }
        if shift >= Self.windowDays {
            window = InlineArray(repeating: 0)
        } else {
            let words = shift >> 6
            let bits = UInt64(shift & 63)
            for target in stride(from: 3, through: 0, by: -1) {
                let source = target - words
                var value: UInt64 = 0
                if source >= 0 {
                    value = window[source] << bits
                    if bits > 0, source > 0 { value |= window[source - 1] >> (64 - bits) }
                }
                window[target] = value
            }
        }
        if shift >= Self.ringDays {
            dailyEvents = InlineArray(repeating: 0)
            dailyPurchases = InlineArray(repeating: 0)
        } else {
            var cleared = headDay + 1
            while cleared <= day {
                let slot = Self.slot(cleared)
                dailyEvents[slot] = 0
                dailyPurchases[slot] = 0
                cleared += 1
            }
        }
        headDay = day
    }

    @inline(__always)
    private static func slot(_ day: Int32) -> Int {
        let remainder = Int(day) % ringDays
        return remainder < 0 ? remainder + ringDays : remainder
    }

    /// The smallest window bit index at or above `start` that is set.
    private func lowestSetBit(from start: Int) -> Int? {
        guard start < Self.windowDays else { return nil }
        var word = start >> 6
        var bits = window[word] & (~0 << UInt64(start & 63))
        while true {
            if bits != 0 { return word << 6 + bits.trailingZeroBitCount }
            word += 1
            if word == 4 { return nil }
            bits = window[word]
        }
    }

    // MARK: Queries

    /// The latest activity at or before `asOf`, Unix ms; 0 if none (or too old to know). Exact
    /// when it is the latest event overall; else the start of the latest active day at or
    /// before `asOf`'s day, in `calendar` (the summary's zone): the summary keeps days, not times.
    package func lastActive(asOf: Int64, calendar: ZoneCalendar) -> Int64 {
        if lastActiveMs != 0, lastActiveMs <= asOf { return lastActiveMs }
        guard let active = latestActiveDay(onOrBefore: calendar.day(of: asOf)) else { return 0 }
        return min(calendar.startOfDay(active), asOf)
    }

    /// Whether there was activity on `day` (false when the day is older than the window and not
    /// the latest older active day: the summary no longer knows).
    @inline(__always)
    package func isActive(on day: Int32) -> Bool {
        guard headDay != Self.noDay, day <= headDay else { return false }
        let age = Int64(headDay) - Int64(day)
        if age < Int64(Self.windowDays) { return window[Int(age) >> 6] & (1 << UInt64(age & 63)) != 0 }
        return day == olderActiveDay
    }

    /// The latest active day at or before `day`, or nil (none, or too old to know).
    package func latestActiveDay(onOrBefore day: Int32) -> Int32? {
        guard headDay != Self.noDay else { return nil }
        if day >= headDay { return headDay }
        let age = Int64(headDay) - Int64(day)
        if age < Int64(Self.windowDays), let index = lowestSetBit(from: Int(age)) {
            return headDay - Int32(index)
        }
        return olderActiveDay != Self.noDay && olderActiveDay <= day ? olderActiveDay : nil
    }

    /// Whether the per-day counts cover `day` exactly (days after the latest activity count 0).
    @inline(__always)
    package func countsCover(_ day: Int32) -> Bool {
        headDay == Self.noDay || Int64(day) > Int64(headDay) - Int64(Self.ringDays)
    }

    /// Events on `day`: exact where the counts cover it, else 1 for an active day.
    @inline(__always)
    package func events(on day: Int32) -> Int {
        guard headDay != Self.noDay, day <= headDay else { return 0 }
        if countsCover(day) { return Int(dailyEvents[Self.slot(day)]) }
        return isActive(on: day) ? 1 : 0
    }

    /// Purchases on `day` (0 where the counts do not cover it).
    @inline(__always)
    package func purchases(on day: Int32) -> Int {
        guard headDay != Self.noDay, day <= headDay, countsCover(day) else { return 0 }
        return Int(dailyPurchases[Self.slot(day)])
    }

    /// Events on days `first` through `last`, which the counts must cover (see ``countsCover(_:)``).
    package func eventSum(from first: Int32, through last: Int32) -> Int {
        ringSum(from: first, through: last) { Int(dailyEvents[$0]) }
    }

    /// Purchases on days `first` through `last`, which the counts must cover.
    package func purchaseSum(from first: Int32, through last: Int32) -> Int {
        ringSum(from: first, through: last) { Int(dailyPurchases[$0]) }
    }

    /// The sum of `count(slot)` over the ring slots of days `first` through `last` (up to the
    /// head day).
    @inline(__always)
    private func ringSum(from first: Int32, through last: Int32, _ count: (Int) -> Int) -> Int {
        guard headDay != Self.noDay else { return 0 }
        let end = min(last, headDay)
        guard first <= end else { return 0 }
        var slot = Self.slot(first)
        var sum = 0
        for _ in 0...Int(end - first) {
            sum += count(slot)
            slot = slot == Self.ringDays - 1 ? 0 : slot + 1
        }
        return sum
    }

    /// Days with activity among `first` through `last` (older than the window, only the latest
    /// older active day is known).
    package func activeDays(from first: Int32, through last: Int32) -> Int {
        guard headDay != Self.noDay, first <= last else { return 0 }
        let windowStart = Int64(headDay) - Int64(Self.windowDays) + 1
        var count = 0
        let low = max(Int64(first), windowStart)
        let high = min(Int64(last), Int64(headDay))
        if low <= high {
            // Bit i is day headDay - i: the days low...high are bits (headDay - high)...(headDay - low).
            let fromBit = Int(Int64(headDay) - high)
            let toBit = Int(Int64(headDay) - low)
            for word in (fromBit >> 6)...(toBit >> 6) {
                var bits = window[word]
                let wordStart = word << 6
                if fromBit > wordStart { bits &= ~0 << UInt64(fromBit - wordStart) }
                if toBit < wordStart + 63 { bits &= (1 << UInt64(toBit - wordStart + 1)) &- 1 }
                count += bits.nonzeroBitCount
            }
        }
        if olderActiveDay != Self.noDay, Int64(olderActiveDay) < windowStart, olderActiveDay >= first, olderActiveDay <= last {
            count += 1
        }
        return count
    }

    /// Whether there was a login on day N after registration (N < ``retentionDays``).
    @inline(__always)
    package func loggedIn(onDay n: Int) -> Bool {
        guard n >= 0, n < Self.retentionDays else { return false }
        return loginRetention[n >> 6] & (1 << UInt64(n & 63)) != 0
    }

    /// Whether there was activity on day N after registration (N < ``retentionDays``).
    @inline(__always)
    package func retained(onDay n: Int) -> Bool {
        guard n >= 0, n < Self.retentionDays else { return false }
        return retention[n >> 6] & (1 << UInt64(n & 63)) != 0
    }
}
