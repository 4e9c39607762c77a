public import RetainProto

/// Levels: how many users are at each tier, now or as of a day, and what each tier grants
/// (Growth.GetLevelDistribution, summed over every Growth shard by the gateway; the registered
/// users from Profile.CountSegment).
public struct LevelsPage: Sendable {
    /// Growth's users per tier, with the tiers in force.
    public var distribution: Loaded<Retain_V1_GetLevelDistributionResponse>
    /// Registered users (as of the same time): those Growth does not know are at level 1.
    public var registered: Loaded<UInt64>
    /// The day asked for (Unix ms of its end), nil for now.
    public var asOfMs: Int64?

    public init(distribution: Loaded<Retain_V1_GetLevelDistributionResponse>, registered: Loaded<UInt64>, asOfMs: Int64? = nil) {
        self.distribution = distribution
        self.registered = registered
        self.asOfMs = asOfMs
    }

    /// Users per tier, lowest first: Growth's counts, with the registered users Growth does not
    /// know added to the lowest tier. Also how many were added.
    public static func counts(
        _ distribution: Retain_V1_GetLevelDistributionResponse, registered: UInt64?
    ) -> (
        counts: [UInt64], withoutGrowth: UInt64
    ) {
        var counts = distribution.levels.map(\.users)
        let withoutGrowth = registered.map { $0 > distribution.users ? $0 - distribution.users : 0 } ?? 0
        if !counts.isEmpty { counts[0] += withoutGrowth }
        return (counts, withoutGrowth)
    }

    /// The page.
    public func render(_ context: PageContext) -> String {
        let text = context.text
        let day = asOfMs.map { Format.date($0 - 1) } ?? ""
        var form = """
            <form method="get" action="/levels" class="actions" id="as-of-form"><label>\(HTML.escape(text[.asOf])) \
            <input type="date" name="as_of" value="\(HTML.escape(day))"></label>\
            <button type="submit">\(HTML.escape(text[.show]))</button></form>
            """
        form += "<p>\(HTML.escape(text[.asOf])): <b id=\"as-of\">\(HTML.escape(asOfMs == nil ? text[.now] : day))</b></p>"
        var section = form
        if let reason = Layout.unavailable(distribution, text) {
            section += reason
        } else if let answer = distribution.value {
            let (counts, withoutGrowth) = Self.counts(answer, registered: registered.value)
            let tiers = answer.levels.map { $0.tier ?? .init() }
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
            section += "<div class=\"figures\">" + Layout.figure(text[.users], Format.count(total), name: "level-users") + "</div>"
            section += chart.render() + Layout.table(id: "level-table", [text[.level], text[.users], text[.share]], rows)
            if registered.value != nil {
                section +=
                    "<p class=\"note\"><span data-figure=\"without-growth\">\(Format.count(withoutGrowth))</span> "
                    + "\(HTML.escape(text[.withoutGrowth]))</p>"
            } else {
                section += "<p class=\"note\">\(HTML.escape(text[.registeredUnknown]))</p>"
            }
            section += "<p class=\"note\">\(HTML.escape(text[.levelsNote]))</p>"
        }
        var body = Layout.section(text[.levelDistribution], id: "distribution", section)
        var tierHTML = Layout.unavailable(distribution, text) ?? ""
        if let levels = distribution.value?.levels {
            let rows = levels.map { row in
                let tier = row.tier ?? .init()
                return [
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
