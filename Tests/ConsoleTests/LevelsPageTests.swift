import ConsoleCore
import RetainProto
import Testing

/// The Levels page shows Growth's users per tier with the registered users Growth does not know
/// at level 1, and the tiers with their privileges.
@Suite struct LevelsPageTests {
    let answer = Retain_V1_GetLevelDistributionResponse(
        levels: [
            .init(tier: .init(level: 1, name: "Bronze", minGrowth: 0), users: 30),
            .init(
                tier: .init(level: 2, name: "Silver<x>", minGrowth: 500, privileges: [.init(name: "free_shipping", value: "true")]),
                users: 10),
        ], users: 40)

    @Test func registeredUsersWithoutGrowthAreAtLevelOne() {
        #expect(LevelsPage.counts(answer, registered: 55) == ([45, 10], 15))
        #expect(LevelsPage.counts(answer, registered: nil) == ([30, 10], 0))
        // Registered counted before Growth caught up: never negative.
        #expect(LevelsPage.counts(answer, registered: 20) == ([30, 10], 0))
        let html = LevelsPage(distribution: .value(answer), registered: .value(55)).render(
            PageContext(language: .en, session: nil, path: "/levels"))
        #expect(html.contains("data-level=\"1\">45<") && html.contains("data-level=\"2\">10<"))
        #expect(html.contains("data-figure=\"without-growth\">15<") && html.contains("data-figure=\"level-users\">55<"))
        #expect(html.contains("Silver&lt;x&gt;") && !html.contains("Silver<x>") && html.contains("free_shipping=true"))
        #expect(html.contains("id=\"as-of\">now<"))
    }

    @Test func speaksChineseSaysWhatItLacksAndShowsTheDayAsked() {
        let denied = LevelsPage(distribution: .value(answer), registered: .denied(scope: "profile:read"), asOfMs: 1_767_312_000_000)
            .render(PageContext(language: .zh, session: nil, path: "/levels"))
        #expect(denied.contains("需要 profile:read") && denied.contains("id=\"as-of\">2026-01-01<"))
        let none = LevelsPage(distribution: .denied(scope: "growth:read"), registered: .value(3))
            .render(PageContext(language: .en, session: nil, path: "/levels"))
        #expect(none.contains("growth:read") && !none.contains("level-table"))
        #expect(Format.parseDate("2026-02-31") == nil && Format.parseDate("2026-01-02") == 1_767_312_000_000)
    }
}
