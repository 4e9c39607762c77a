import ConsoleCore
import RetainProto
import Testing

/// The Segments page: every saved segment, one's rule, counts and first members linking to users.
@Suite struct SegmentsPageTests {
    let list = Retain_V1_ListSavedSegmentsResponse(segments: [
        .init(name: "vip", description: "VIP <buyers>", rule: .init(tag: .init(tag: "vip")), version: 2, updatedBy: "ops"),
        .init(name: "zz", rule: .init(tag: .init(tag: "z")), version: 1),
    ])

    @Test func oneSegmentWithItsRuleCountsAndMembers() {
        #expect(SegmentsPage.choose(list, asked: "zz") == "zz" && SegmentsPage.choose(list, asked: "nope") == "vip")
        let page = SegmentsPage(
            list: .value(list), chosen: "vip", countNow: .value(.init(count: 1234)), countAsOf: .value(.init(count: 7)),
            asOfMs: 1_767_312_000_000,
            members: .value(
                .init(members: [.init(userId: "u<1>", values: ["vip"])], pageInfo: .init(nextPageToken: "t"), columns: ["tag:vip"])))
        let html = page.render(PageContext(language: .en, session: nil, path: "/segments"))
        #expect(html.contains("data-figure=\"members-now\">1,234<") && html.contains("data-figure=\"members-as-of\">7<"))
        #expect(html.contains("VIP &lt;buyers&gt;") && html.contains("&quot;tag&quot;"))
        #expect(html.contains("href=\"/user?id=u%3C1%3E\">u&lt;1&gt;</a>") && html.contains("tag:vip"))
        #expect(html.contains("retain segment members") && html.contains("2026-01-01"))
    }

    @Test func speaksChineseAndSaysWhenThereIsNoneOrItMayNotRead() {
        let none = SegmentsPage(list: .value(.init()), chosen: nil).render(PageContext(language: .zh, session: nil, path: "/segments"))
        #expect(none.contains("retain segment create") && none.contains("分群"))
        let denied = SegmentsPage(list: .value(list), chosen: "vip", countNow: .denied(scope: "gateway:read"))
            .render(PageContext(language: .en, session: nil, path: "/segments"))
        #expect(denied.contains("gateway:read"))
    }
}
