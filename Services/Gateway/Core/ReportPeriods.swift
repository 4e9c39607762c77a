import Foundation
public import RetainProto

/// The bounds of report periods in a time zone: ISO weeks (Monday 00:00 to the next Monday),
/// calendar months and calendar years.
public enum ReportPeriods {
    /// A period: [start, end) in Unix ms, and the calendar year it starts in.
    public struct Bounds: Sendable, Hashable {
        public var startMs: Int64
        public var endMs: Int64
        public var year: Int32
    }

    /// The period of kind `period` that contains `atMs` in `timeZone` (an IANA name).
    public static func bounds(_ period: Retain_V1_ReportPeriod, at atMs: Int64, timeZone: String) throws(FlowError) -> Bounds {
        guard let zone = TimeZone(identifier: timeZone.isEmpty ? "UTC" : timeZone) else {
            throw FlowError.invalid(field: "time_zone", reason: "'\(timeZone)' is not an IANA time zone")
        }
        var calendar = Calendar(identifier: .iso8601)
        calendar.timeZone = zone
        calendar.firstWeekday = 2
        calendar.minimumDaysInFirstWeek = 4
        let component: Calendar.Component
        switch period {
        case .week: component = .weekOfYear
        case .month: component = .month
        case .year: component = .year
        default: throw FlowError.invalid(field: "period", reason: "must be WEEK, MONTH or YEAR")
        }
        let date = Date(timeIntervalSince1970: Double(atMs) / 1000)
        guard let interval = calendar.dateInterval(of: component, for: date) else {
            throw FlowError.invalid(field: "at_ms", reason: "\(atMs) has no \(period) in \(timeZone)")
        }
        let start = Int64((interval.start.timeIntervalSince1970 * 1000).rounded())
        let end = Int64((interval.end.timeIntervalSince1970 * 1000).rounded())
        let year = Int32(calendar.component(.year, from: interval.start))
        return Bounds(startMs: start, endMs: end, year: year)
    }
}
