public import RetainProto

/// Recall campaigns: every campaign with its progress, and for each the recall rate of the
/// treated against the holdout, the lift with its 95% interval, and what it cost
/// (Profile.ListCampaigns and Profile.GetCampaignResults through the gateway; docs/CAMPAIGNS.md).
public struct CampaignsPage: Sendable {
    /// The campaigns with their progress.
    public var campaigns: Loaded<Retain_V1_ListCampaignsResponse>
    /// Each shown campaign's results, by id.
    public var results: [String: Loaded<Retain_V1_GetCampaignResultsResponse>]

    /// Campaigns whose results the page shows: the newest ones.
    public static let shownResults = 10

    public init(campaigns: Loaded<Retain_V1_ListCampaignsResponse>, results: [String: Loaded<Retain_V1_GetCampaignResultsResponse>]) {
        self.campaigns = campaigns
        self.results = results
    }

    /// The ids whose results the page shows: the newest ``shownResults`` by creation time.
    public static func shown(_ list: Retain_V1_ListCampaignsResponse) -> [String] {
        list.campaigns.compactMap(\.campaign).sorted { $0.createdAtMs > $1.createdAtMs }.prefix(shownResults).map(\.campaignId)
    }

    /// The page.
    public func render(_ context: PageContext) -> String {
        let text = context.text
        if let reason = Layout.unavailable(campaigns, text) {
            return Layout.page(context, title: text[.navCampaigns], body: Layout.section(text[.navCampaigns], id: "campaigns", reason))
        }
        guard let list = campaigns.value, !list.campaigns.isEmpty else {
            return Layout.page(
                context, title: text[.navCampaigns],
                body: Layout.section(text[.navCampaigns], id: "campaigns", "<p>\(HTML.escape(text[.noCampaigns]))</p>"))
        }
        let rows = list.campaigns.map { status -> [String] in
            let campaign = status.campaign ?? .init()
            let state = status.cancelled ? text[.campaignCancelled] : status.enrolled ? text[.campaignEnrolled] : text[.campaignEnrolling]
            return [
                "<a href=\"#c-\(HTML.escape(campaign.campaignId))\"><code>\(HTML.escape(campaign.campaignId))</code></a>",
                HTML.escape(state), Format.date(campaign.startAtMs) + " – " + Format.date(campaign.endAtMs), Format.count(status.members),
                Format.count(status.touched), Format.count(status.returned),
            ]
        }
        var body = Layout.section(
            text[.navCampaigns], id: "campaigns",
            Layout.table(
                id: "campaign-table", [text[.item], text[.status], text[.days], text[.members], text[.touched], text[.cameBack]], rows))
        for id in Self.shown(list) {
            body += section(id, results[id] ?? .failed("not loaded"), text)
        }
        return Layout.page(context, title: text[.navCampaigns], body: body)
    }

    /// One campaign's results.
    private func section(_ id: String, _ loaded: Loaded<Retain_V1_GetCampaignResultsResponse>, _ text: Localizer) -> String {
        if let reason = Layout.unavailable(loaded, text) { return Layout.section(id, id: "c-\(HTML.escape(id))", reason) }
        guard let results = loaded.value else { return "" }
        let treated = results.treated ?? .init()
        let holdout = results.holdout ?? .init()
        let chart = BarChart(
            title: text[.recallRate], categories: [text[.treated], text[.holdout]],
            series: [.init(name: text[.recallRate], values: [treated.recallRate * 100, holdout.recallRate * 100])], layout: .grouped)
        var figures = "<div class=\"figures\">"
        figures += Layout.figure(
            text[.treated], "\(Format.percent(treated.recallRate)) (\(treated.returned)/\(treated.members))", name: "treated")
        figures += Layout.figure(
            text[.holdout], "\(Format.percent(holdout.recallRate)) (\(holdout.returned)/\(holdout.members))", name: "holdout")
        figures += Layout.figure(
            text[.lift], "\(Self.points(results.lift)) [\(Self.points(results.liftCiLow)), \(Self.points(results.liftCiHigh))]",
            name: "lift")
        figures += Layout.figure(text[.significant], results.significant ? text[.yes] : text[.no], name: "significant")
        figures += Layout.figure(text[.broughtBack], String(Int(results.incrementalReturns.rounded())), name: "brought-back")
        figures += "</div>"
        let channels = results.channels.map { Names.channel($0.channel) + " " + Format.count($0.touches) }.joined(separator: ", ")
        let costs: [[String]] = [
            [HTML.escape(text[.touches]), Format.count(results.touches) + (channels.isEmpty ? "" : " (\(HTML.escape(channels)))")],
            [HTML.escape(text[.touchCost]), Format.count(results.touchCost)],
            [HTML.escape(text[.rewardsDue]), results.rewardsDue.map { Format.count($0.value) + " " + HTML.escape($0.asset) } ?? "-"],
            [HTML.escape(text[.costPerRecalled]), Self.money(results.costPerRecalledUser)],
            [
                HTML.escape(text[.costPerBroughtBack]),
                results.costPerIncrementalReturn > 0 ? Self.money(results.costPerIncrementalReturn) : "-",
            ],
        ]
        return Layout.section(
            id, id: "c-\(HTML.escape(id))",
            figures + chart.render() + Layout.table(id: "costs-\(HTML.escape(id))", ["", ""], costs)
                + "<p class=\"method\">\(HTML.escape(results.method))</p>")
    }

    /// A difference of rates in percentage points, signed.
    static func points(_ difference: Double) -> String {
        let value = (difference * 1000).rounded() / 10
        return (value >= 0 ? "+" : "") + "\(value) pp"
    }

    /// A cost with two decimals.
    static func money(_ value: Double) -> String {
        let cents = Int64((value * 100).rounded())
        let fraction = cents % 100
        return "\(cents / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }
}
