public import RetainProto

/// Levels: how many users are at each tier, and what each tier grants.
public struct LevelsPage: Sendable {
    /// The tiers, lowest first.
    public var tiers: Loaded<Retain_V1_GetLevelTiersResponse>
    /// Users per tier, in the tiers' order.
    public var counts: Loaded<[UInt64]>

    public init(tiers: Loaded<Retain_V1_GetLevelTiersResponse>, counts: Loaded<[UInt64]>) {
        self.tiers = tiers
        self.counts = counts
    }

    /// The page.
    public func render(_ context: PageContext) -> String {
        let text = context.text
        var distribution = ""
        if let reason = Layout.unavailable(tiers, text) ?? Layout.unavailable(counts, text) {
            distribution = reason
        } else if let tiers = tiers.value?.tiers, let counts = counts.value {
            let labels = tiers.map { "\($0.level) \($0.name)" }
            let chart = BarChart(
                title: text[.levelDistribution], categories: labels,
                series: [BarChart.Series(name: text[.users], values: counts.map { Double($0) })], layout: .stacked)
            let total = counts.reduce(0, +)
            let rows = zip(tiers, counts).map { tier, count in
                [
                    "\(tier.level) \(HTML.escape(tier.name))", "<span data-level=\"\(tier.level)\">\(Format.count(count))</span>",
                    Format.percent(total == 0 ? 0 : Double(count) / Double(total)),
                ]
            }
            distribution =
                chart.render() + Layout.table(id: "level-table", [text[.level], text[.users], text[.share]], rows)
                + "<p class=\"note\">\(HTML.escape(text[.levelsNote]))</p>"
        }
        var body = Layout.section(text[.levelDistribution], id: "distribution", distribution)
        var tierHTML = Layout.unavailable(tiers, text) ?? ""
        if let tiers = tiers.value?.tiers {
            let rows = tiers.map { tier in
                [
                    "\(tier.level) \(HTML.escape(tier.name))", Format.count(tier.minGrowth),
                    tier.privileges.map { "<div>\(HTML.escape($0.label.isEmpty ? "\($0.name)=\($0.value)" : $0.label))</div>" }
                        .joined(),
                ]
            }
            tierHTML = Layout.table(id: "tier-table", [text[.level], text[.minGrowth], text[.privileges]], rows)
        }
        body += Layout.section(text[.tiers], id: "tiers", tierHTML)
        return Layout.page(context, title: text[.navLevels], body: body)
    }
}
