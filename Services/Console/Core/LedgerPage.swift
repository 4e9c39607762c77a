public import RetainProto

/// The ledger: what has been issued (by kind), spent and expired, in total and per day, week or
/// month, what users hold, and the audit's verdict on the books and the hash chain.
public struct LedgerPage: Sendable {
    /// Ledger.Audit of the points asset (with the chain verified when asked).
    public var audit: Loaded<Retain_V1_AuditResponse>
    /// Whether the chain was recomputed in this audit.
    public var verifiedChain: Bool
    /// Ledger.GetPeriodTotals of the points asset over the recent periods.
    public var periods: Loaded<Retain_V1_GetPeriodTotalsResponse>
    /// The periods' length.
    public var period: Retain_V1_SummaryPeriod

    public init(
        audit: Loaded<Retain_V1_AuditResponse>, verifiedChain: Bool,
        periods: Loaded<Retain_V1_GetPeriodTotalsResponse> = .value(.init()), period: Retain_V1_SummaryPeriod = .day
    ) {
        self.audit = audit
        self.verifiedChain = verifiedChain
        self.periods = periods
        self.period = period
    }

    /// The range the page asks GetPeriodTotals for, ending with today (UTC): 30 days, 12 ISO
    /// weeks (from a Monday) or 12 months (from the first of a month).
    public static func range(_ period: Retain_V1_SummaryPeriod, nowMs: Int64) -> Retain_V1_TimeRange {
        let day: Int64 = 86_400_000
        let end = (nowMs / day + 1) * day
        switch period {
        case .week:
            // 1970-01-01 was a Thursday: Monday of this week, then 11 weeks back.
            let monday = (nowMs / day - ((nowMs / day + 3) % 7)) * day
            return .init(startMs: monday - 11 * 7 * day, endMs: end)
        case .month:
            let (year, month, _) = Format.civil(nowMs)
            let back = year * 12 + month - 1 - 11
            return .init(startMs: Format.startOfDay(year: back / 12, month: back % 12 + 1, day: 1), endMs: end)
        default:
            return .init(startMs: end - 30 * day, endMs: end)
        }
    }

    /// The query value of each period length and its label.
    static let periodChoices: [(Retain_V1_SummaryPeriod, String, TextKey)] = [
        (.day, "day", .periodDay), (.week, "week", .periodWeek), (.month, "month", .periodMonth),
    ]

    /// The per-period section: a choice of period, a chart of issued, spent and expired, and a
    /// table of every figure with the totals.
    func perPeriod(_ text: Localizer) -> String {
        var html = "<p class=\"actions\">"
        for (value, name, key) in Self.periodChoices {
            html +=
                value == period
                ? "<b>\(HTML.escape(text[key]))</b> "
                : "<a href=\"/ledger?period=\(name)\" id=\"period-\(name)\">\(HTML.escape(text[key]))</a> "
        }
        html += "</p>"
        if let reason = Layout.unavailable(periods, text) { return html + reason }
        guard let points = periods.value?.assets.first(where: { $0.asset == "points" }), !points.periods.isEmpty else {
            return html + "<p>\(HTML.escape(text[.noData]))</p>"
        }
        let label = { (one: Retain_V1_PeriodTotals) in
            period == .month ? String(Format.date(one.startMs).prefix(7)) : Format.monthDay(one.startMs)
        }
        var chart = BarChart(
            title: text[.perPeriodPanel], categories: points.periods.map(label),
            series: [
                .init(name: text[.issued], values: points.periods.map { Double($0.issued) }),
                .init(name: text[.spent], values: points.periods.map { Double(max(0, $0.spent)) }),
                .init(name: text[.expired], values: points.periods.map { Double($0.expired) }),
            ], layout: .grouped)
        chart.labelEvery = period == .day ? 3 : 1
        func cells(_ one: Retain_V1_PeriodTotals) -> [String] {
            [
                Format.count(one.issued), Format.count(one.spent), Format.count(one.expired), Format.count(one.penalized),
                Format.count(one.adjusted), Format.count(one.held), Format.count(one.net),
            ]
        }
        // Periods without movement stay in the chart; the table lists the others and counts them.
        let quiet = points.periods.filter { $0.records == 0 }.count
        var rows = points.periods.reversed().filter { $0.records > 0 }.map { one in
            ["<span data-period-start=\"\(one.startMs)\">\(HTML.escape(period == .month ? label(one) : Format.date(one.startMs)))</span>"]
                + cells(one)
        }
        let total = points.total ?? .init()
        rows.insert(["<b>\(HTML.escape(text[.totalRow]))</b>"] + cells(total).map { "<b>\($0)</b>" }, at: 0)
        let header = [
            text[.period], text[.issued], text[.spent], text[.expired], text[.penalized], text[.adjusted], text[.heldPlaced],
            text[.netChange],
        ]
        var figures = "<div class=\"figures\">"
        figures += Layout.figure(text[.issued], Format.count(total.issued), name: "period-issued")
        figures += Layout.figure(text[.spent], Format.count(total.spent), name: "period-spent")
        figures += Layout.figure(text[.expired], Format.count(total.expired), name: "period-expired")
        figures += Layout.figure(text[.netChange], Format.count(total.net), name: "period-net")
        figures += "</div>"
        let quietNote =
            quiet == 0 ? "" : "<p class=\"note\"><span id=\"quiet-periods\">\(quiet)</span> \(HTML.escape(text[.quietPeriods]))</p>"
        return html + figures + chart.render() + Layout.table(id: "period-table", header, rows) + quietNote
            + "<p class=\"note\">\(HTML.escape(text[.perPeriodNote]))</p>"
    }

    /// Issued, spent, expired and penalized points, and what users hold, from the audit's
    /// totals over user accounts (the same reading as `retain demo`'s report).
    public static func totals(_ asset: Retain_V1_AssetAudit) -> (issued: Int64, spent: Int64, expired: Int64, penalized: Int64) {
        func credited(_ kind: Retain_V1_TransferKind) -> Int64 { asset.byKind.filter { $0.kind == kind }.reduce(0) { $0 + $1.credited } }
        func debited(_ kind: Retain_V1_TransferKind) -> Int64 { asset.byKind.filter { $0.kind == kind }.reduce(0) { $0 + $1.debited } }
        let issued = asset.byKind.filter { $0.kind != .refund }.reduce(0) { $0 + $1.credited }
        return (issued, debited(.redemption) - credited(.refund), debited(.expiry), debited(.penalty))
    }

    /// The page.
    public func render(_ context: PageContext) -> String {
        let text = context.text
        var body = ""
        if let reason = Layout.unavailable(audit, text) {
            body =
                Layout.section(text[.perPeriodPanel], id: "per-period", perPeriod(text)) + Layout.section(text[.audit], id: "audit", reason)
            return Layout.page(context, title: text[.navLedger], body: body)
        }
        guard let audit = audit.value else { return Layout.page(context, title: text[.navLedger], body: "") }
        if let points = audit.assets.first(where: { $0.asset == "points" }) {
            let totals = Self.totals(points)
            var figures = "<div class=\"figures\">"
            figures += Layout.figure(text[.issued], Format.count(totals.issued), name: "issued")
            figures += Layout.figure(text[.spent], Format.count(totals.spent), name: "spent")
            figures += Layout.figure(text[.expired], Format.count(totals.expired), name: "expired")
            figures += Layout.figure(text[.penalized], Format.count(totals.penalized), name: "penalized")
            figures += Layout.figure(text[.heldByUsers], Format.count(points.userBalances), name: "held")
            figures += "</div>"
            let chart = BarChart(
                title: text[.pointsTotals], categories: ["points"],
                series: [
                    .init(name: text[.issued], values: [Double(totals.issued)]), .init(name: text[.spent], values: [Double(totals.spent)]),
                    .init(name: text[.expired], values: [Double(totals.expired)]),
                    .init(name: text[.heldByUsers], values: [Double(points.userBalances)]),
                ], layout: .grouped)
            body += figures + Layout.section(text[.pointsTotals], id: "totals", chart.render())
            let kinds = points.byKind.filter { $0.credited > 0 && $0.kind != .refund }
            let kindChart = BarChart(
                title: text[.issuedByKind], categories: kinds.map { Names.transferKind($0.kind) },
                series: [.init(name: text[.issued], values: kinds.map { Double($0.credited) })], layout: .stacked)
            let rows = kinds.map {
                ["<code>\(HTML.escape(Names.transferKind($0.kind)))</code>", Format.count($0.credited), Format.count($0.count)]
            }
            body += Layout.section(
                text[.issuedByKind], id: "by-kind",
                kindChart.render() + Layout.table(id: "kind-table", [text[.kind], text[.issued], "#"], rows))
        }
        body += Layout.section(text[.perPeriodPanel], id: "per-period", perPeriod(text))
        let hex = audit.chainHead.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
        let rows: [[String]] = [
            [HTML.escape(text[.balancedLabel]), "<b id=\"balanced\">\(HTML.escape(audit.balanced ? text[.yes] : text[.no]))</b>"],
            [HTML.escape(text[.journalLength]), Format.count(audit.journalLength)],
            [HTML.escape(text[.chainHead]), "<code>\(HTML.escape(String(hex.prefix(16))))…</code>"],
            [
                HTML.escape(text[.chainVerified]),
                verifiedChain
                    ? "<b id=\"chain-verified\">\(HTML.escape(audit.chainVerified ? text[.yes] : text[.no]))</b>"
                    : "<a href=\"/ledger?verify=1\">\(HTML.escape(text[.show]))</a>",
            ],
            [HTML.escape(text[.time]), Format.time(audit.auditedAtMs)],
        ]
        body += Layout.section(text[.audit], id: "audit", Layout.table(id: "audit-table", ["", ""], rows))
        return Layout.page(context, title: text[.navLedger], body: body)
    }
}
