public import RetainProto

/// One user: profile, level and growth, balances with their lots, the statement, feedback
/// history, this month's report and the year's points by month.
public struct UserPage: Sendable {
    /// The user asked for; empty shows only the lookup form.
    public var userID: String
    public var profile: Loaded<Retain_V1_GetProfileResponse>
    public var growth: Loaded<Retain_V1_GetGrowthViewResponse>
    /// Growth over the current year (level changes).
    public var growthYear: Loaded<Retain_V1_GetGrowthSummaryResponse>
    public var balance: Loaded<Retain_V1_GetBalanceResponse>
    public var statement: Loaded<Retain_V1_GetStatementResponse>
    public var year: Loaded<Retain_V1_GetYearlySummaryResponse>
    public var feedback: Loaded<Retain_V1_GetUserFeedbackHistoryResponse>
    /// The gateway's monthly report (GetUserReport).
    public var report: Loaded<Retain_V1_GetUserReportResponse>

    public init(
        userID: String, profile: Loaded<Retain_V1_GetProfileResponse>, growth: Loaded<Retain_V1_GetGrowthViewResponse>,
        growthYear: Loaded<Retain_V1_GetGrowthSummaryResponse>, balance: Loaded<Retain_V1_GetBalanceResponse>,
        statement: Loaded<Retain_V1_GetStatementResponse>, year: Loaded<Retain_V1_GetYearlySummaryResponse>,
        feedback: Loaded<Retain_V1_GetUserFeedbackHistoryResponse>, report: Loaded<Retain_V1_GetUserReportResponse>
    ) {
        self.userID = userID
        self.profile = profile
        self.growth = growth
        self.growthYear = growthYear
        self.balance = balance
        self.statement = statement
        self.year = year
        self.feedback = feedback
        self.report = report
    }

    /// The lookup form alone.
    public static func lookupForm(_ text: Localizer, userID: String) -> String {
        """
        <form method="get" action="/user" class="actions" id="user-lookup"><label>\(HTML.escape(text[.userId])) \
        <input type="text" name="id" id="user-id" value="\(HTML.escape(userID))" required></label>\
        <button type="submit">\(HTML.escape(text[.show]))</button></form>
        """
    }

    /// The page.
    public func render(_ context: PageContext) -> String {
        let text = context.text
        var body = Self.lookupForm(text, userID: userID)
        body += Layout.section(text[.profile], id: "profile", profileSection(text))
        body += Layout.section(text[.levelAndGrowth], id: "growth", growthSection(text))
        body += Layout.section(text[.balances], id: "balances", balanceSection(text))
        body += Layout.section(text[.lots], id: "lots", lotsSection(text))
        body += Layout.section(text[.statement], id: "statement", statementSection(text))
        body += Layout.section(text[.yearByMonth], id: "year", yearSection(text))
        body += Layout.section(text[.feedbackHistory], id: "feedback-history", feedbackSection(text))
        body += Layout.section(text[.monthlyReport], id: "report", reportSection(text))
        return Layout.page(context, title: "\(text[.navUser]) \(userID)", body: body)
    }

    func profileSection(_ text: Localizer) -> String {
        if let reason = Layout.unavailable(profile, text) { return reason }
        guard let user = profile.value?.profile else { return "" }
        let rows: [[String]] = [
            [HTML.escape(text[.userId]), "<b id=\"profile-user\">\(HTML.escape(user.userId))</b>"],
            [HTML.escape(text[.channel]), HTML.escape(user.channel)],
            [HTML.escape(text[.registeredAt]), Format.time(user.registeredAtMs)],
            [HTML.escape(text[.stage]), "<span id=\"profile-stage\">\(HTML.escape(text[Names.key(user.stage)]))</span>"],
            [HTML.escape(text[.lastActive]), Format.time(user.lastActiveMs)],
            [HTML.escape(text[.region]), HTML.escape(user.region)],
            [HTML.escape(text[.tags]), user.tags.map { "<code>\(HTML.escape($0))</code>" }.joined(separator: " ")],
        ]
        return Layout.table(id: "profile-table", ["", ""], rows)
    }

    func growthSection(_ text: Localizer) -> String {
        if let reason = Layout.unavailable(growth, text) { return reason }
        guard let view = growth.value else { return "" }
        var html = "<div class=\"figures\">"
        html += Layout.figure(text[.level], view.level.map { "\($0.level) \($0.name)" } ?? "-", name: "level")
        html += Layout.figure(text[.totalGrowth], Format.count(view.totalGrowth), name: "total-growth")
        html += Layout.figure(text[.growthToNext], Format.count(view.growthToNext), name: "growth-to-next")
        html += Layout.figure(text[.streak], Format.count(view.streakDays), name: "streak")
        html += "</div>"
        if let privileges = view.level?.privileges, !privileges.isEmpty {
            html +=
                "<p>\(HTML.escape(text[.privileges])): "
                + privileges.map { "<code>\(HTML.escape($0.label.isEmpty ? $0.name : $0.label))</code>" }.joined(separator: " ") + "</p>"
        }
        if let changes = growthYear.value?.levelChanges, !changes.isEmpty {
            let rows = changes.map { ["\(Format.time($0.atMs))", "\($0.fromLevel) → \($0.toLevel) \(HTML.escape($0.toLevelName))"] }
            html += "<h3>\(HTML.escape(text[.levelHistory]))</h3>" + Layout.table(id: "level-history", [text[.time], text[.level]], rows)
        }
        return html
    }

    func balanceSection(_ text: Localizer) -> String {
        if let reason = Layout.unavailable(balance, text) { return reason }
        guard let balances = balance.value?.balances, !balances.isEmpty else { return "<p>\(HTML.escape(text[.noData]))</p>" }
        let rows = balances.map {
            [
                "<code>\(HTML.escape($0.asset))</code>", "<b data-balance=\"\(HTML.escape($0.asset))\">\(Format.count($0.balance))</b>",
                Format.count($0.available), Format.count($0.expiringSoon),
            ]
        }
        return Layout.table(id: "balance-table", [text[.asset], text[.balance], text[.available], text[.expiringSoon]], rows)
    }

    func lotsSection(_ text: Localizer) -> String {
        if let reason = Layout.unavailable(balance, text) { return reason }
        let lots = (balance.value?.balances ?? []).flatMap { balance in balance.lots.map { (balance.asset, $0) } }
        guard !lots.isEmpty else { return "<p>\(HTML.escape(text[.noData]))</p>" }
        let rows = lots.prefix(100).map { asset, lot in
            [
                "<code>\(HTML.escape(asset))</code>", Format.count(lot.amount), Format.count(lot.remaining), Format.time(lot.creditedAtMs),
                lot.expiresAtMs == 0 ? HTML.escape(text[.never]) : Format.time(lot.expiresAtMs),
            ]
        }
        return Layout.table(id: "lot-table", [text[.asset], text[.amount], text[.remaining], text[.created], text[.expiresAt]], rows)
    }

    func statementSection(_ text: Localizer) -> String {
        if let reason = Layout.unavailable(statement, text) { return reason }
        guard let postings = statement.value?.postings, !postings.isEmpty else { return "<p>\(HTML.escape(text[.noData]))</p>" }
        let rows = postings.map { posting in
            [
                Format.time(posting.postedAtMs), "<code class=\"posting-kind\">\(HTML.escape(Names.transferKind(posting.kind)))</code>",
                "<span class=\"posting-amount\">\(posting.amount > 0 ? "+" : "")\(Format.count(posting.amount))</span> \(HTML.escape(posting.asset))",
                Format.count(posting.balanceAfter), "<code>\(HTML.escape(posting.transferId))</code>",
            ]
        }
        return Layout.table(id: "statement-table", [text[.time], text[.kind], text[.amount], text[.balance], text[.transfer]], rows)
    }

    func yearSection(_ text: Localizer) -> String {
        if let reason = Layout.unavailable(year, text) { return reason }
        guard let points = year.value?.assets.first(where: { $0.asset == "points" }), points.months.count == 12 else {
            return "<p>\(HTML.escape(text[.noData]))</p>"
        }
        let chart = BarChart(
            title: text[.yearByMonth], categories: (1...12).map { String($0) },
            series: [
                .init(name: text[.earned], values: points.months.map { Double($0.earned) }),
                .init(name: text[.spent], values: points.months.map { Double($0.spent) }),
                .init(name: text[.expired], values: points.months.map { Double($0.expired) }),
            ], layout: .grouped)
        return chart.render()
    }

    func feedbackSection(_ text: Localizer) -> String {
        if let reason = Layout.unavailable(feedback, text) { return reason }
        guard let history = feedback.value else { return "" }
        var html = "<div class=\"figures\">"
        html += Layout.figure(text[.feedbackHistory], Format.count(history.totalItems), name: "feedback-total")
        html += Layout.figure(text[.kindComplaint], Format.count(history.complaintCount), name: "complaints")
        html += Layout.figure(text[.openItems], Format.count(history.openCount), name: "feedback-open")
        let paid = history.compensationPaid.filter { $0.asset == "points" }.reduce(Int64(0)) { $0 + $1.value }
        html += Layout.figure(text[.compensation], Format.count(paid), name: "compensation-paid")
        html += "</div>"
        if !history.openItems.isEmpty {
            let rows = history.openItems.map {
                [
                    HTML.escape($0.itemId), HTML.escape(text[Names.key($0.kind)]), HTML.escape(text[Names.key($0.status)]),
                    HTML.escape($0.text),
                ]
            }
            html += Layout.table(id: "open-feedback", [text[.item], text[.kind], text[.status], text[.text]], rows)
        }
        return html
    }

    func reportSection(_ text: Localizer) -> String {
        if let reason = Layout.unavailable(report, text) { return reason }
        guard let report = report.value else { return "" }
        var html = "<p>\(Format.date(report.periodStartMs)) – \(Format.date(report.periodEndMs - 1))</p><div class=\"figures\">"
        html += Layout.figure(text[.growthEarned], Format.count(report.growth?.growthEarned ?? 0), name: "report-growth")
        html += Layout.figure(text[.checkIns], Format.count(report.growth?.checkInDays ?? 0), name: "report-check-ins")
        if let points = report.ledger.first(where: { $0.asset == "points" }) {
            html += Layout.figure(text[.earned], Format.count(points.earned), name: "report-earned")
            html += Layout.figure(text[.spent], Format.count(points.spent), name: "report-spent")
            html += Layout.figure(text[.closing], Format.count(points.closingBalance), name: "report-closing")
        }
        return html + "</div>"
    }
}
