@testable import LedgerCore
import RetainProto
import Testing

@Suite("statements and summaries")
struct StatementTests {
    @Test("a statement lists a user's postings newest first, paged with a token bound to the filters")
    func paging() throws {
        var ledger = fundedLedger(users: [])
        for index in 0..<5 {
            ledger.now += 1000
            ledger.transfer(transfer("c\(index)", "budget:camp:points", "user:amy:points", Int64(index + 1)))
        }
        ledger.transfer(transfer("h", "user:amy:points", "redemption:points", 2, kind: .redemption, pending: true))
        var request = Retain_V1_GetStatementRequest(userId: "amy", page: .init(pageSize: 2))
        let first = try ledger.state.statement(request)
        #expect(first.postings.map(\.transferId) == ["c4", "c3"])
        #expect(first.postings.map(\.balanceAfter) == [15, 10])
        #expect(first.pageInfo?.total == 5)
        request.page?.pageToken = first.pageInfo!.nextPageToken
        let second = try ledger.state.statement(request)
        #expect(second.postings.map(\.transferId) == ["c2", "c1"])
        request.page?.pageToken = second.pageInfo!.nextPageToken
        #expect(try ledger.state.statement(request).postings.map(\.transferId) == ["c0"])
        var other = request
        other.includePending = true
        #expect(throws: LedgerError.invalid(field: "page.page_token", reason: "is malformed or was issued for other filters")) {
            try ledger.state.statement(other)
        }
        let withHolds = try ledger.state.statement(.init(userId: "amy", includePending: true, page: .init(pageSize: 1)))
        #expect(withHolds.postings.first?.state == .pending && withHolds.postings.first?.amount == -2)
    }

    @Test("the yearly summary adds up earned, spent, expired and penalized by kind and by month")
    func yearly() throws {
        var ledger = fundedLedger(users: [])
        ledger.now = 1_767_225_600_000 + 10 * LedgerHarness.day  // 2026-01-11
        ledger.transfer(
            transfer(
                "w", "budget:camp:points", "user:amy:points", 100, kind: .welcomeBonus,
                expiresAtMs: ledger.now + 40 * LedgerHarness.day))
        ledger.now += 30 * LedgerHarness.day  // February
        ledger.transfer(transfer("r", "user:amy:points", "redemption:points", 30, kind: .redemption))
        ledger.transfer(transfer("f", "redemption:points", "user:amy:points", 10, kind: .refund))
        ledger.now += 20 * LedgerHarness.day  // March
        _ = ledger.expire()
        let summary = try ledger.state.yearlySummary(.init(userId: "amy", year: 2026))
        let points = try #require(summary.assets.first)
        #expect(points.openingBalance == 0 && points.closingBalance == 10, "the refund is a new lot without expiry")
        #expect(points.earned == 100 && points.spent == 20 && points.expired == 70)
        #expect(points.months.count == 12)
        #expect(points.months[0].earned == 100 && points.months[1].spent == 20 && points.months[2].expired == 70)
        #expect(points.byKind.map(\.kind) == [.welcomeBonus, .redemption, .refund, .expiry])
        #expect(try ledger.state.yearlySummary(.init(userId: "amy", year: 2025)).assets.isEmpty)
        #expect(throws: LedgerError.self) { try ledger.state.yearlySummary(.init(userId: "amy", year: 2026, timeZone: "Mars/Base")) }
        let january = try ledger.state.ledgerSummary(
            .init(
                userId: "amy",
                range: .init(
                    startMs: 1_767_225_600_000, endMs: 1_767_225_600_000 + 31 * LedgerHarness.day)))
        #expect(january.assets.first?.earned == 100 && january.assets.first?.closingBalance == 100)
    }
}
