import ConsoleCore
import RetainProto
import Testing

/// The Campaigns page shows each campaign's progress and its results against the holdout.
@Suite struct CampaignsPageTests {
    func page() -> CampaignsPage {
        let list = Retain_V1_ListCampaignsResponse(campaigns: [
            .init(campaign: .init(campaignId: "old", createdAtMs: 1), members: 10, enrolled: true, touched: 8, returned: 3),
            .init(campaign: .init(campaignId: "win<back>", createdAtMs: 2), members: 500, enrolled: false, touched: 400, returned: 120),
        ])
        var results = Retain_V1_GetCampaignResultsResponse(
            campaignId: "win<back>", treated: .init(members: 400, returned: 100), holdout: .init(members: 100, returned: 20),
            touches: 400, channels: [.init(channel: .email, touches: 400, cost: 800)], rewardsDue: .init(value: 5_000, asset: "points"))
        results.computeStatistics()
        return CampaignsPage(campaigns: .value(list), results: ["win<back>": .value(results), "old": .denied(scope: "profile:read")])
    }

    @Test func showsProgressResultsAndCostsEscaped() {
        let html = page().render(PageContext(language: .en, session: nil, path: "/campaigns"))
        #expect(html.contains("win&lt;back&gt;") && !html.contains("win<back>"))
        #expect(html.contains("25.0% (100/400)") && html.contains("20.0% (20/100)"))
        #expect(html.contains("+5.0 pp"), "25% against 20%")
        #expect(html.contains("email 400") && html.contains("5,000 points"))
        // (800 + 5,000) / 100 returns.
        #expect(html.contains("58.00"))
        #expect(html.contains("<svg class=\"chart\""))
        // A campaign whose results the key may not read says so in its own section.
        #expect(html.contains("id=\"c-old\"") && html.contains("profile:read"))
    }

    @Test func speaksChineseAndSaysWhenThereIsNone() {
        let html = page().render(PageContext(language: .zh, session: nil, path: "/campaigns"))
        #expect(html.contains("回归率") && html.contains("对照组"))
        let empty = CampaignsPage(campaigns: .value(.init()), results: [:]).render(
            PageContext(language: .en, session: nil, path: "/campaigns"))
        #expect(empty.contains("retain campaign create"))
    }
}
