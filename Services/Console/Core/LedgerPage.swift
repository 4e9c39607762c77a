public import RetainProto

/// The ledger: what has been issued (by kind), spent and expired, what users hold, and the
/// audit's verdict on the books and the hash chain.
public struct LedgerPage: Sendable {
    /// Ledger.Audit of the points asset (with the chain verified when asked).
    public var audit: Loaded<Retain_V1_AuditResponse>
    /// Whether the chain was recomputed in this audit.
    public var verifiedChain: Bool

    public init(audit: Loaded<Retain_V1_AuditResponse>, verifiedChain: Bool) {
        self.audit = audit
        self.verifiedChain = verifiedChain
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
            body = Layout.section(text[.audit], id: "audit", reason)
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
        body += """
            <section id="per-period" class="needs-rpc" data-needs-rpc="ledger-wide summary per period">\
            <h2>\(HTML.escape(text[.perPeriodPanel]))</h2><p>\(HTML.escape(text[.needsLedgerPeriodRPC]))</p></section>
            """
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
