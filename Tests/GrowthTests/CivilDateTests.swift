@testable import GrowthCore
import Testing

@Suite("calendar arithmetic")
struct CivilDateTests {
    @Test("day numbers and dates round-trip across four-digit years and leap days")
    func roundTrip() {
        #expect(CivilDate.dayNumber(year: 1970, month: 1, day: 1) == 0)
        #expect(CivilDate.string(0) == "1970-01-01")
        #expect(CivilDate.parse("2024-02-29") == CivilDate.dayNumber(year: 2024, month: 2, day: 29))
        // Years 1148 to 9909: the four-digit years a date string can hold.
        for day in stride(from: Int32(-300_000), to: 2_900_000, by: 997) {
            #expect(CivilDate.parse(CivilDate.string(day)) == day)
        }
    }

    @Test("impossible dates and malformed text are refused")
    func refusesBadDates() {
        for text in ["2025-02-29", "2025-13-01", "2025-1-01", "20250101", "2025-04-31", "", "abcd-ef-gh"] {
            #expect(CivilDate.parse(text) == nil, "\(text)")
        }
    }

    @Test("ISO weeks start on Monday and belong to the year of their Thursday")
    func isoWeeks() {
        // 2021-01-03 (a Sunday) is in week 53 of 2020; 2024-12-30 (a Monday) starts 2025-W01.
        #expect(CivilDate.isoWeekKey(monday: CivilDate.monday(of: CivilDate.parse("2021-01-03")!)) == "2020-W53")
        #expect(CivilDate.isoWeekKey(monday: CivilDate.monday(of: CivilDate.parse("2024-12-30")!)) == "2025-W01")
        #expect(CivilDate.monday(of: CivilDate.parse("2025-03-16")!) == CivilDate.parse("2025-03-10"))
        #expect(CivilDate.parseISOWeek("2025-W11") == CivilDate.parse("2025-03-10"))
        #expect(CivilDate.parseISOWeek("2020-W53") == CivilDate.parse("2020-12-28"))
        #expect(CivilDate.parseISOWeek("2025-W53") == nil)
        #expect(CivilDate.parseISOWeek("2025-11") == nil)
    }

    @Test("the local day of an instant follows the zone's offset, daylight saving included")
    func localDays() {
        let shanghai = LocalZone.named("Asia/Shanghai")!
        // 2025-03-10 20:00 UTC is already 2025-03-11 in Shanghai (UTC+8).
        #expect(CivilDate.string(shanghai.day(at: utc(2025, 3, 10, 20))) == "2025-03-11")
        #expect(CivilDate.string(LocalZone.utc.day(at: utc(2025, 3, 10, 20))) == "2025-03-10")
        let newYork = LocalZone.named("America/New_York")!
        // US daylight saving starts 2025-03-09: that local day has 23 hours.
        let day = CivilDate.parse("2025-03-09")!
        #expect(newYork.startMs(of: day + 1) - newYork.startMs(of: day) == 23 * hourMs)
        #expect(newYork.startMs(of: day) == local("America/New_York", 2025, 3, 9))
        #expect(LocalZone.named("Mars/Olympus_Mons") == nil)
    }
}
