import ConsoleCore
import Foundation
import RetainProto
import Testing

/// The Ledger page charts the points' flows per period and tables every figure with the totals.
@Suite struct LedgerPageTests {
    let now: Int64 = 1_765_040_400_000  // 2025-12-06 17:00 UTC, a Saturday

    @Test func theRangesEndTodayAndStartOnAPeriodBoundary() {
        let day: Int64 = 86_400_000
        let end: Int64 = 1_765_065_600_000  // 2025-12-07 00:00
        #expect(LedgerPage.range(.day, nowMs: now) == .init(startMs: end - 30 * day, endMs: end))
        // Monday 2025-12-01, then 11 weeks back: Monday 2025-09-15.
        #expect(LedgerPage.range(.week, nowMs: now).startMs == Format.startOfDay(year: 2025, month: 9, day: 15))
        #expect(LedgerPage.range(.month, nowMs: now).startMs == Format.startOfDay(year: 2025, month: 1, day: 1))
        #expect(
            LedgerPage.range(.month, nowMs: Format.startOfDay(year: 2026, month: 3, day: 2)).startMs
                == Format.startOfDay(year: 2025, month: 4, day: 1))
    }

    @Test func periodsShowAsAChartAndATableWithTheTotalFirst() {
        let periods = Retain_V1_GetPeriodTotalsResponse(assets: [
            .init(
                asset: "points",
                periods: [
                    .init(startMs: Format.startOfDay(year: 2025, month: 12, day: 4)),
                    .init(
                        startMs: Format.startOfDay(year: 2025, month: 12, day: 5), issued: 1200, spent: 300, expired: 20, net: 880,
                        records: 9),
                    .init(startMs: Format.startOfDay(year: 2025, month: 12, day: 6), issued: 50, spent: -5, held: 7, net: 55, records: 3),
                ], total: .init(issued: 1250, spent: 295, expired: 20, held: 7, net: 935))
        ])
        let page = LedgerPage(audit: .failed("UNAVAILABLE: down"), verifiedChain: false, periods: .value(periods), period: .day)
        let html = page.render(PageContext(language: .en, session: nil, path: "/ledger"))
        #expect(html.contains("data-figure=\"period-issued\">1,250<") && html.contains("data-figure=\"period-net\">935<"))
        #expect(html.contains("id=\"period-table\"") && html.contains("2025-12-06") && html.contains("<svg class=\"chart\""))
        // Newest first under the total; the audit's failure stays in its own section.
        let table = html[html.range(of: "period-table")!.lowerBound...]
        #expect(table.range(of: "2025-12-06")!.lowerBound < table.range(of: "2025-12-05")!.lowerBound)
        #expect(html.contains("UNAVAILABLE: down") && html.contains("id=\"period-week\""))
        // A day without movement is in the chart, not in the table.
        #expect(!table.contains("2025-12-04") && html.contains("id=\"quiet-periods\">1<"))
        let zh = LedgerPage(audit: .failed("x"), verifiedChain: false, periods: .denied(scope: "ledger:read"), period: .month)
            .render(PageContext(language: .zh, session: nil, path: "/ledger"))
        #expect(zh.contains("按月（12 个月）") && zh.contains("ledger:read"))
    }
}
