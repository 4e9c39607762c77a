public import RetainProto

/// The Overview: new users per day by channel, retention by cohort and day, lifecycle stages,
/// churn warnings, and daily, weekly and monthly active users.
public struct OverviewPage: Sendable {
    /// Days after registration the heatmap shows.
    public static let retentionDays: [UInt32] = [1, 3, 7, 14, 30]

    /// Registered users (CountSegment with an empty filter).
    public var totalUsers: Loaded<UInt64>
    /// Daily cohorts of the period, by channel (GetRetention with by_channel).
    public var retention: Loaded<Retain_V1_GetRetentionResponse>
    /// Users per lifecycle stage, in ``Names/stages`` order (one CountSegment each).
    public var stages: Loaded<[UInt64]>
    /// The first page of churn warnings, largest drop first.
    public var churn: Loaded<Retain_V1_ListChurnWarningsResponse>
    /// The channel the heatmap shows; empty for all.
    public var channel: String
    /// The period's length in days.
    public var days: Int
    /// DAU, WAU and MAU per day of the period, all channels (GetActiveUsers).
    public var activeUsers: Loaded<Retain_V1_GetActiveUsersResponse>

    public init(
        totalUsers: Loaded<UInt64>, retention: Loaded<Retain_V1_GetRetentionResponse>, stages: Loaded<[UInt64]>,
        churn: Loaded<Retain_V1_ListChurnWarningsResponse>, channel: String, days: Int,
        activeUsers: Loaded<Retain_V1_GetActiveUsersResponse>
    ) {
        self.activeUsers = activeUsers
        self.totalUsers = totalUsers
        self.retention = retention
        self.stages = stages
        self.churn = churn
        self.channel = channel
        self.days = days
    }

    /// The page.
    public func render(_ context: PageContext) -> String {
        let text = context.text
        var body = "<div class=\"figures\">"
        body += Layout.figure(text[.totalUsers], totalUsers.value.map { Format.count($0) } ?? "-", name: "total-users")
        let newUsers = retention.value?.newUsersByChannel.reduce(UInt64(0)) { $0 + $1.newUsers }
        body += Layout.figure("\(text[.newUsers]) (\(days) \(text[.days]))", newUsers.map { Format.count($0) } ?? "-", name: "new-users")
        body += "</div>"
        body += Layout.section(text[.newUsersByChannel], id: "new-users-chart", newUsersChart(text))
        body += Layout.section(text[.retentionHeatmap], id: "retention", heatmap(text))
        body += Layout.section(text[.lifecycleStages], id: "stages", stagesSection(text))
        body += Layout.section(text[.churnWarnings], id: "churn", churnSection(text))
        body += Layout.section(text[.activeUsersPanel], id: "active-users", activeUsersSection(text))
        return Layout.page(context, title: text[.navOverview], body: body)
    }

    /// The all-channel rows of GetActiveUsers, in day order.
    var activeDays: [Retain_V1_ActiveUsersDay] {
        activeUsers.value?.days.filter(\.allChannels) ?? []
    }

    /// The last complete day's DAU, WAU and MAU as figures, and the three per day as bars.
    func activeUsersSection(_ text: Localizer) -> String {
        if let reason = Layout.unavailable(activeUsers, text) { return reason }
        let rows = activeDays
        guard let last = rows.last(where: \.complete) ?? rows.last else { return "<p>\(HTML.escape(text[.noData]))</p>" }
        var html = "<div class=\"figures\" data-active-day=\"\(last.dayStartMs)\">"
        html += Layout.figure("DAU \(Format.monthDay(last.dayStartMs))", Format.count(last.dau), name: "dau")
        html += Layout.figure("WAU", Format.count(last.wau), name: "wau")
        html += Layout.figure("MAU", Format.count(last.mau), name: "mau")
        html += "</div>"
        var chart = BarChart(
            title: text[.activeUsersPanel], categories: rows.map { Format.monthDay($0.dayStartMs) },
            series: [
                BarChart.Series(name: "DAU", values: rows.map { Double($0.dau) }),
                BarChart.Series(name: "WAU", values: rows.map { Double($0.wau) }),
                BarChart.Series(name: "MAU", values: rows.map { Double($0.mau) }),
            ], layout: .grouped)
        chart.labelEvery = max(1, rows.count / 10)
        html += chart.render()
        return html
    }

    /// The channels of the period, largest first (GetRetention's order).
    var channels: [String] {
        retention.value?.newUsersByChannel.map(\.channel) ?? []
    }

    /// The all-channel cohort starts, in time order.
    var cohortStarts: [Int64] {
        retention.value?.cohorts.filter { $0.channel.isEmpty }.map(\.cohortStartMs) ?? []
    }

    func newUsersChart(_ text: Localizer) -> String {
        if let reason = Layout.unavailable(retention, text) { return reason }
        guard let answer = retention.value, !answer.cohorts.isEmpty else { return "<p>\(HTML.escape(text[.noData]))</p>" }
        let starts = cohortStarts
        var index: [Int64: Int] = [:]
        for (position, start) in starts.enumerated() { index[start] = position }
        var series = channels.map { BarChart.Series(name: $0.isEmpty ? "-" : $0, values: Array(repeating: 0, count: starts.count)) }
        let seriesIndex = Dictionary(channels.enumerated().map { ($0.element, $0.offset) }, uniquingKeysWith: { first, _ in first })
        for cohort in answer.cohorts where !cohort.channel.isEmpty {
            guard let position = index[cohort.cohortStartMs], let number = seriesIndex[cohort.channel] else { continue }
            series[number].values[position] = Double(cohort.newUsers)
        }
        var chart = BarChart(
            title: text[.newUsersByChannel], categories: starts.map(Format.monthDay), series: series, layout: .stacked)
        chart.labelEvery = max(1, starts.count / 10)
        var html = chart.render()
        let rows = answer.newUsersByChannel.map { [HTML.escape($0.channel.isEmpty ? "-" : $0.channel), Format.count($0.newUsers)] }
        html += Layout.table(id: "new-users-by-channel", [text[.channel], text[.newUsers]], rows)
        return html
    }

    func heatmap(_ text: Localizer) -> String {
        if let reason = Layout.unavailable(retention, text) { return reason }
        guard let answer = retention.value else { return "" }
        var links = "<p class=\"channels\">"
        for channel in [""] + channels {
            let label = channel.isEmpty ? text[.allChannels] : channel
            let current = channel == self.channel ? " class=\"current\" aria-current=\"true\"" : ""
            links += "<a href=\"/overview?days=\(days)&amp;channel=\(HTML.query(channel))\"\(current)>\(HTML.escape(label))</a> "
        }
        links += "</p>"
        let rows = answer.cohorts.filter { $0.channel == channel }.suffix(30).map { cohort in
            Heatmap.Row(
                label: "\(Format.date(cohort.cohortStartMs)) (\(cohort.newUsers))",
                cells: cohort.cells.map { Heatmap.Cell(rate: $0.rate, complete: $0.complete) })
        }
        guard !rows.isEmpty else { return links + "<p>\(HTML.escape(text[.noData]))</p>" }
        let map = Heatmap(
            title: text[.retentionHeatmap], columns: Self.retentionDays.map { "\(text[.dayN]) \($0)" }, rows: Array(rows))
        return links + map.render()
    }

    func stagesSection(_ text: Localizer) -> String {
        if let reason = Layout.unavailable(stages, text) { return reason }
        guard let counts = stages.value else { return "" }
        let labels = Names.stages.map { text[Names.key($0)] }
        let chart = BarChart(
            title: text[.lifecycleStages], categories: labels,
            series: [BarChart.Series(name: text[.users], values: counts.map { Double($0) })], layout: .stacked)
        let total = counts.reduce(0, +)
        let rows = zip(Names.stages, counts).map { stage, count in
            [
                HTML.escape(text[Names.key(stage)]), "<span data-stage=\"\(stage.rawValue)\">\(Format.count(count))</span>",
                Format.percent(total == 0 ? 0 : Double(count) / Double(total)),
            ]
        }
        return chart.render() + Layout.table(id: "stage-table", [text[.stage], text[.users], text[.share]], rows)
    }

    func churnSection(_ text: Localizer) -> String {
        if let reason = Layout.unavailable(churn, text) { return reason }
        guard let answer = churn.value else { return "" }
        guard !answer.warnings.isEmpty else { return "<p>\(HTML.escape(text[.noData]))</p>" }
        let rows = answer.warnings.map { warning in
            [
                "<a href=\"/user?id=\(HTML.query(warning.userId))\">\(HTML.escape(warning.userId))</a>", HTML.escape(warning.channel),
                HTML.escape(warning.reasonText), Format.percent(warning.drop), Format.date(warning.lastActiveMs),
            ]
        }
        let total = answer.pageInfo?.total ?? UInt64(answer.warnings.count)
        return "<div class=\"figures\">" + Layout.figure(text[.churnWarnings], Format.count(total), name: "churn-total") + "</div>"
            + Layout.table(id: "churn-table", [text[.user], text[.channel], text[.reason], text[.drop], text[.lastActive]], rows)
    }
}
