import Foundation
import Synchronization

/// Local calendar days and times of day in one IANA time zone, computed from a table of the
/// zone's UTC offsets so that the millions of day computations that activity needs cost a
/// binary search, not a trip through Foundation.
///
/// Days are numbered from 1970-01-01 (day 0) in the zone's local calendar.
public struct ZoneCalendar: Sendable, Hashable {
    /// Milliseconds in a day.
    public static let dayMilliseconds: Int64 = 86_400_000
    /// The zone's IANA name.
    public let identifier: String
    /// UTC instants (ms) at which the offset changes, ascending.
    private let transitions: [Int64]
    /// Offsets (ms): `offsets[0]` before the first transition, `offsets[i + 1]` from transition i.
    private let offsets: [Int64]

    /// Coordinated Universal Time.
    public static let utc = ZoneCalendar(identifier: "UTC", transitions: [], offsets: [0])

    private init(identifier: String, transitions: [Int64], offsets: [Int64]) {
        self.identifier = identifier
        self.transitions = transitions
        self.offsets = offsets
    }

    private static let cache = Mutex<[String: ZoneCalendar]>([:])

    /// The calendar of an IANA zone (e.g. "Asia/Shanghai"), or nil when the system does not know
    /// the zone. Tables are built once per zone and cached.
    public static func named(_ identifier: String) -> ZoneCalendar? {
        if identifier == "UTC" { return .utc }
        if let cached = cache.withLock({ $0[identifier] }) { return cached }
        guard !identifier.isEmpty, let zone = TimeZone(identifier: identifier) else { return nil }
        var transitions: [Int64] = []
        var offsets: [Int64] = []
        var date = Date(timeIntervalSince1970: -86_400 * 31)
        let end = Date(timeIntervalSince1970: 4_102_444_800)  // 2100-01-01
        offsets.append(Int64(zone.secondsFromGMT(for: date)) * 1000)
        while let next = zone.nextDaylightSavingTimeTransition(after: date), next < end {
            let offset = Int64(zone.secondsFromGMT(for: next)) * 1000
            if offset != offsets[offsets.count - 1] {
                transitions.append(Int64((next.timeIntervalSince1970 * 1000).rounded()))
                offsets.append(offset)
            }
            date = next
        }
        let calendar = ZoneCalendar(identifier: identifier, transitions: transitions, offsets: offsets)
        cache.withLock { $0[identifier] = calendar }
        return calendar
    }

    /// The offset from UTC at `ms`, in ms.
    @inline(__always)
    public func offset(at ms: Int64) -> Int64 {
        if transitions.isEmpty { return offsets[0] }
        var low = 0
        var high = transitions.count
        while low < high {
            let middle = (low + high) >> 1
            if transitions[middle] <= ms { low = middle + 1 } else { high = middle }
        }
        return offsets[low]
    }

    /// The local day that contains `ms`.
    @inline(__always)
    public func day(of ms: Int64) -> Int32 {
        Int32(truncatingIfNeeded: Self.floorDivide(ms + offset(at: ms), Self.dayMilliseconds))
    }

    /// The first instant of local day `day`, Unix ms.
    public func startOfDay(_ day: Int32) -> Int64 {
        let localMidnight = Int64(day) * Self.dayMilliseconds
        var guess = localMidnight - offset(at: localMidnight)
        guess = localMidnight - offset(at: guess)
        // Across a transition at midnight the local midnight may not exist: step to the day's
        // first instant.
        if self.day(of: guess) < day { guess = localMidnight - offset(at: guess + Self.dayMilliseconds / 2) }
        while self.day(of: guess - 1) == day { guess -= 3_600_000 }
        return guess
    }

    /// Minutes since local midnight at `ms`, 0 to 1439.
    public func minuteOfDay(_ ms: Int64) -> Int {
        let local = ms + offset(at: ms)
        return Int((local - Self.floorDivide(local, Self.dayMilliseconds) * Self.dayMilliseconds) / 60_000)
    }

    /// The Monday that starts the ISO week of `day`.
    public static func weekStart(ofDay day: Int32) -> Int32 {
        // Day 0 (1970-01-01) was a Thursday, 3 days after a Monday.
        let shifted = Int64(day) + 3
        return day - Int32(shifted - floorDivide(shifted, 7) * 7)
    }

    @inline(__always)
    static func floorDivide(_ value: Int64, _ divisor: Int64) -> Int64 {
        let quotient = value / divisor
        return (value % divisor != 0 && (value < 0) != (divisor < 0)) ? quotient - 1 : quotient
    }

    public static func == (lhs: ZoneCalendar, rhs: ZoneCalendar) -> Bool { lhs.identifier == rhs.identifier }
    public func hash(into hasher: inout Hasher) { hasher.combine(identifier) }
}
