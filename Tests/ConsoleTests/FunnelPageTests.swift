import ConsoleCore
import RetainProto
import Testing

/// The Funnel page sums GetFunnel's rows per channel and shows each weekly cohort.
@Suite struct FunnelPageTests {
    let answer = Retain_V1_GetFunnelResponse(
        rows: [
            .init(cohortStartMs: 1_764_547_200_000, allChannels: true, registered: 10, activated: 6, purchased: 3, complete: true),
            .init(cohortStartMs: 1_764_547_200_000, channel: "ads<1>", registered: 4, activated: 1, purchased: 1),
            .init(cohortStartMs: 1_764_547_200_000, channel: "organic", registered: 6, activated: 5, purchased: 2),
            .init(cohortStartMs: 1_765_152_000_000, allChannels: true, registered: 5, activated: 2, purchased: 1, purchasedNotActivated: 1),
            .init(
                cohortStartMs: 1_765_152_000_000, channel: "organic", registered: 5, activated: 2, purchased: 1, purchasedNotActivated: 1),
        ], activation: .init(minActiveDays: 2, withinDays: 7))

    @Test func channelsAddUpOverCohortsAndRatesComeFromTheSums() {
        let (all, channels) = FunnelPage.byChannel(answer)
        #expect(all.registered == 15 && all.activated == 8 && all.purchased == 4 && all.purchasedNotActivated == 1)
        #expect(channels.map(\.0) == ["organic", "ads<1>"])
        #expect(channels[0].1.registered == 11 && channels[0].1.activated == 7)
        #expect(all.purchaseRate == 0.5)
        let html = FunnelPage(funnel: .value(answer), weeks: 8).render(PageContext(language: .en, session: nil, path: "/funnel"))
        #expect(html.contains("data-figure=\"funnel-registered\">15<") && html.contains("data-figure=\"funnel-activation-rate\">53.3%<"))
        #expect(html.contains("ads&lt;1&gt;") && !html.contains("ads<1>"))
        #expect(html.contains("at least 2 distinct days among the first 7 days"))
        #expect(html.contains("data-cohort=\"1765152000000\">2025-12-08<"))
    }

    @Test func speaksChineseAndSaysWhatItLacks() {
        let html = FunnelPage(funnel: .denied(scope: "profile:read"), weeks: 4).render(
            PageContext(language: .zh, session: nil, path: "/funnel"))
        #expect(html.contains("转化漏斗") && html.contains("profile:read"))
        // Eight ISO weeks ending with this one: from a Monday seven weeks back to tomorrow 00:00.
        let range = FunnelPage.range(weeks: 8, nowMs: 1_765_040_400_000)  // Saturday 2025-12-06
        #expect(range.startMs == Format.startOfDay(year: 2025, month: 10, day: 13) && range.endMs == 1_765_065_600_000)
    }
}
