/// How the console writes numbers and times: plain, the same in both languages, in UTC (the
/// suite's reports default to UTC), so that a test can read them back.
public enum Format {
    /// An integer with thin grouping: `1234567` as `1,234,567`.
    public static func count(_ value: some BinaryInteger) -> String {
        let digits = String(value.magnitude)
        var out = ""
        for (index, digit) in digits.enumerated() {
            if index > 0, (digits.count - index) % 3 == 0 { out += "," }
            out.append(digit)
        }
        return (value < 0 ? "-" : "") + out
    }

    /// A share as a percentage with one decimal: `0.1234` as `12.3%`.
    public static func percent(_ share: Double) -> String {
        guard share.isFinite else { return "-" }
        return String((share * 1000).rounded() / 10) + "%"
    }

    /// The civil date (UTC) of Unix milliseconds: year, month, day (Howard Hinnant's algorithm).
    public static func civil(_ ms: Int64) -> (year: Int, month: Int, day: Int) {
        let days = Int((ms >= 0 ? ms : ms - 86_399_999) / 86_400_000) + 719_468
        let era = (days >= 0 ? days : days - 146_096) / 146_097
        let dayOfEra = days - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// Unix milliseconds of 00:00 UTC on a civil date.
    public static func startOfDay(year: Int, month: Int, day: Int) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return Int64(era * 146_097 + dayOfEra - 719_468) * 86_400_000
    }

    /// `2026-12-06`.
    public static func date(_ ms: Int64) -> String {
        guard ms != 0 else { return "-" }
        let (year, month, day) = civil(ms)
        return "\(year)-\(two(month))-\(two(day))"
    }

    /// 00:00 UTC of a `2026-12-06` date (as a date input sends it); nil for anything else.
    public static func parseDate(_ text: String) -> Int64? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
            (1970...9999).contains(year), (1...12).contains(month), (1...31).contains(day)
        else { return nil }
        let start = startOfDay(year: year, month: month, day: day)
        // 2026-02-31 is not a date: it would come back as another day.
        return date(start) == text ? start : nil
    }

    /// `12-06`, for chart labels.
    public static func monthDay(_ ms: Int64) -> String {
        let (_, month, day) = civil(ms)
        return "\(two(month))-\(two(day))"
    }

    /// `2026-12-06 17:05 UTC`.
    public static func time(_ ms: Int64) -> String {
        guard ms != 0 else { return "-" }
        let minutes = ((ms % 86_400_000) + 86_400_000) % 86_400_000 / 60_000
        return "\(date(ms)) \(two(Int(minutes / 60))):\(two(Int(minutes % 60))) UTC"
    }

    private static func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
}
