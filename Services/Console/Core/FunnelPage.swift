import Foundation
public import RetainProto

/// The funnel: registration, activation and first purchase of the users registered over the
/// last weeks, per acquisition channel and per weekly cohort (Profile.GetFunnel, summed over
/// every Profile shard by the gateway).
public struct FunnelPage: Sendable {
    /// GetFunnel by week, with a row per channel.
    public var funnel: Loaded<Retain_V1_GetFunnelResponse>
    /// How many weekly cohorts the page asked for.
    public var weeks: Int

    public init(funnel: Loaded<Retain_V1_GetFunnelResponse>, weeks: Int) {
        self.funnel = funnel
        self.weeks = weeks
    }

    /// The sums of a funnel's rows.
    public struct Totals: Sendable, Hashable {
        public var registered: UInt64 = 0
        public var activated: UInt64 = 0
        public var purchased: UInt64 = 0
        public var purchasedNotActivated: UInt64 = 0

        public init() {}

        /// activated / registered.
        public var activationRate: Double { registered == 0 ? 0 : Double(activated) / Double(registered) }
        /// purchased / activated.
        public var purchaseRate: Double { activated == 0 ? 0 : Double(purchased) / Double(activated) }

        mutating func add(_ row: Retain_V1_FunnelRow) {
            registered += row.registered
            activated += row.activated
            purchased += row.purchased
            purchasedNotActivated += row.purchasedNotActivated
        }
    }

    /// All channels together, then each channel (largest first, then by name), over every cohort.
    public static func byChannel(_ funnel: Retain_V1_GetFunnelResponse) -> (all: Totals, channels: [(String, Totals)]) {
        var all = Totals()
        var channels: [String: Totals] = [:]
        for row in funnel.rows {
            if row.allChannels { all.add(row) } else { channels[row.channel, default: Totals()].add(row) }
        }
        let sorted = channels.sorted {
            $0.value.registered != $1.value.registered ? $0.value.registered > $1.value.registered : $0.key < $1.key
        }
        return (all, sorted.map { ($0.key, $0.value) })
    }

    /// The registration range of `weeks` ISO-week cohorts ending with this week (UTC).
    public static func range(weeks: Int, nowMs: Int64) -> Retain_V1_TimeRange {
        let day: Int64 = 86_400_000
        let monday = (nowMs / day - ((nowMs / day + 3) % 7)) * day
        return .init(startMs: monday - Int64(weeks - 1) * 7 * day, endMs: (nowMs / day + 1) * day)
    }

    /// The page.
    public func render(_ context: PageContext) -> String {
        let text = context.text
        var form = "<p class=\"actions\">\(HTML.escape(text[.weeksShown])): "
        for choice in [4, 8, 12, 26] {
            form += choice == weeks ? "<b>\(choice)</b> " : "<a href=\"/funnel?weeks=\(choice)\">\(choice)</a> "
        }
        form += "</p>"
        if let reason = Layout.unavailable(funnel, text) {
            return Layout.page(context, title: text[.navFunnel], body: Layout.section(text[.funnelByChannel], id: "funnel", form + reason))
        }
        guard let answer = funnel.value else { return Layout.page(context, title: text[.navFunnel], body: "") }
        let (all, channels) = Self.byChannel(answer)
        var figures = "<div class=\"figures\">"
        figures += Layout.figure(text[.registered], Format.count(all.registered), name: "funnel-registered")
        figures += Layout.figure(text[.activated], Format.count(all.activated), name: "funnel-activated")
        figures += Layout.figure(text[.purchased], Format.count(all.purchased), name: "funnel-purchased")
        figures += Layout.figure(text[.activationRate], Format.percent(all.activationRate), name: "funnel-activation-rate")
        figures += Layout.figure(text[.purchaseRate], Format.percent(all.purchaseRate), name: "funnel-purchase-rate")
        figures += "</div>"
        let chart = BarChart(
            title: text[.funnelByChannel], categories: channels.map { $0.0.isEmpty ? "-" : $0.0 },
            series: [
                .init(name: text[.registered], values: channels.map { Double($0.1.registered) }),
                .init(name: text[.activated], values: channels.map { Double($0.1.activated) }),
                .init(name: text[.purchased], values: channels.map { Double($0.1.purchased) }),
            ], layout: .grouped)
        func cells(_ totals: Totals) -> [String] {
            [
                Format.count(totals.registered), Format.count(totals.activated), Format.count(totals.purchased),
                Format.percent(totals.activationRate), Format.percent(totals.purchaseRate), Format.count(totals.purchasedNotActivated),
            ]
        }
        let header = [
            text[.channel], text[.registered], text[.activated], text[.purchased], text[.activationRate], text[.purchaseRate],
            text[.purchasedNotActivated],
        ]
        var rows = [["<b>\(HTML.escape(text[.allChannels]))</b>"] + cells(all)]
        rows += channels.map {
            ["<span data-channel=\"\(HTML.escape($0.0))\">\(HTML.escape($0.0.isEmpty ? "-" : $0.0))</span>"] + cells($0.1)
        }
        let activation = answer.activation ?? .init()
        let rule = text[.activationRule].replacingOccurrences(of: "{n}", with: "\(activation.minActiveDays)")
            .replacingOccurrences(of: "{d}", with: "\(activation.withinDays)")
        var body = Layout.section(
            text[.funnelByChannel], id: "funnel",
            form + figures + chart.render() + Layout.table(id: "funnel-channels", header, rows)
                + "<p class=\"note\">\(HTML.escape(rule))</p>")
        let cohorts = answer.rows.filter(\.allChannels).reversed().map { row -> [String] in
            var totals = Totals()
            totals.add(row)
            return ["<span data-cohort=\"\(row.cohortStartMs)\">\(Format.date(row.cohortStartMs))</span>"] + cells(totals)
                + [HTML.escape(row.complete ? text[.yes] : text[.no])]
        }
        body += Layout.section(
            text[.funnelByCohort], id: "cohorts",
            Layout.table(id: "funnel-cohorts", [text[.cohort]] + Array(header.dropFirst()) + [text[.complete]], cohorts))
        return Layout.page(context, title: text[.navFunnel], body: body)
    }
}
