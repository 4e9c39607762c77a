public import Foundation
import Synchronization

/// A user's IANA time zone and the local days it decides: the day number of an instant, and
/// where a local day starts. Zones are looked up once and cached.
public struct LocalZone: Sendable {
    /// The IANA identifier, e.g. "Asia/Shanghai".
    public let identifier: String
    /// Foundation's zone.
    public let timeZone: TimeZone
    private let calendar: Calendar

    private static let cache = Mutex<[String: LocalZone]>([:])

    /// UTC.
    public static let utc = LocalZone(identifier: "UTC", timeZone: TimeZone(identifier: "UTC")!)

    private init(identifier: String, timeZone: TimeZone) {
        self.identifier = identifier
        self.timeZone = timeZone
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        self.calendar = calendar
    }

    /// The zone named `identifier`, or nil when Foundation does not know it. Empty means UTC.
    public static func named(_ identifier: String) -> LocalZone? {
        if identifier.isEmpty || identifier == "UTC" { return utc }
        if let cached = cache.withLock({ $0[identifier] }) { return cached }
        guard identifier.utf8.count <= 64, let timeZone = TimeZone(identifier: identifier) else { return nil }
        let zone = LocalZone(identifier: identifier, timeZone: timeZone)
        cache.withLock { $0[identifier] = zone }
        return zone
    }

    /// The local day (days since 1970-01-01) that holds the instant `ms`.
    public func day(at ms: Int64) -> Int32 {
        let date = Date(timeIntervalSince1970: Double(ms) / 1000)
        let offset = Int64(timeZone.secondsFromGMT(for: date)) * 1000
        return CivilDate.utcDay(ms: ms + offset)
    }

    /// Unix ms of the first instant of local day `dayNumber` (midnight, or the first time after
    /// a skipped midnight).
    public func startMs(of dayNumber: Int32) -> Int64 {
        let (year, month, day) = CivilDate.components(of: dayNumber)
        let components = DateComponents(year: year, month: month, day: day)
        guard let date = calendar.date(from: components) else {
            return CivilDate.utcStartMs(dayNumber) - Int64(timeZone.secondsFromGMT()) * 1000
        }
        let start = calendar.startOfDay(for: date)
        return Int64((start.timeIntervalSince1970 * 1000).rounded())
    }
}
