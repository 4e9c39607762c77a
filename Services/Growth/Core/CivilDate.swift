/// Calendar arithmetic on day numbers (days since 1970-01-01) in the proleptic Gregorian
/// calendar: local dates as "YYYY-MM-DD" and ISO weeks as "YYYY-Www", without Foundation.
///
/// The algorithms are Howard Hinnant's `days_from_civil` and `civil_from_days`.
public enum CivilDate {
    /// The day number of a date.
    public static func dayNumber(year: Int, month: Int, day: Int) -> Int32 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return Int32(era * 146_097 + dayOfEra - 719_468)
    }

    /// The year, month and day of a day number.
    public static func components(of dayNumber: Int32) -> (year: Int, month: Int, day: Int) {
        let z = Int(dayNumber) + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// "YYYY-MM-DD" for a day number.
    public static func string(_ dayNumber: Int32) -> String {
        let (year, month, day) = components(of: dayNumber)
        return pad(year, 4) + "-" + pad(month, 2) + "-" + pad(day, 2)
    }

    /// The day number of a "YYYY-MM-DD" date, or nil when it is not one.
    public static func parse(_ text: String) -> Int32? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
            (1...12).contains(month), (1...31).contains(day)
        else { return nil }
        let number = dayNumber(year: year, month: month, day: day)
        // Rejects dates such as 2025-02-30 that roll over into the next month.
        guard string(number) == text else { return nil }
        return number
    }

    /// Monday = 0 ... Sunday = 6 (1970-01-01 was a Thursday).
    public static func weekdayIndex(_ dayNumber: Int32) -> Int32 {
        let remainder = (dayNumber + 3) % 7
        return remainder < 0 ? remainder + 7 : remainder
    }

    /// The Monday that starts the ISO week holding `dayNumber`.
    public static func monday(of dayNumber: Int32) -> Int32 {
        dayNumber - weekdayIndex(dayNumber)
    }

    /// "YYYY-Www" for the ISO week that starts on `monday`: the ISO year is the year of the
    /// week's Thursday.
    public static func isoWeekKey(monday: Int32) -> String {
        let thursday = monday + 3
        let year = components(of: thursday).year
        let week = (thursday - dayNumber(year: year, month: 1, day: 1)) / 7 + 1
        return pad(year, 4) + "-W" + pad(Int(week), 2)
    }

    /// The Monday of an ISO week key "YYYY-Www", or nil when it is not one.
    public static func parseISOWeek(_ text: String) -> Int32? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 4, parts[1].count == 3, parts[1].first == "W",
            let year = Int(parts[0]), let week = Int(parts[1].dropFirst()), (1...53).contains(week)
        else { return nil }
        // Week 1 is the week holding January 4th.
        let firstMonday = monday(of: dayNumber(year: year, month: 1, day: 4))
        let result = firstMonday + Int32(week - 1) * 7
        // Rejects week 53 of a year that has only 52.
        guard isoWeekKey(monday: result) == text else { return nil }
        return result
    }

    /// The day number holding a Unix time in UTC.
    public static func utcDay(ms: Int64) -> Int32 {
        Int32(floorDivide(ms, 86_400_000))
    }

    /// Unix ms of 00:00 UTC on `dayNumber`.
    public static func utcStartMs(_ dayNumber: Int32) -> Int64 {
        Int64(dayNumber) * 86_400_000
    }

    static func floorDivide(_ value: Int64, _ divisor: Int64) -> Int64 {
        let quotient = value / divisor
        return (value % divisor != 0 && (value < 0) != (divisor < 0)) ? quotient - 1 : quotient
    }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }
}
