import ConsoleCore
import RetainProto
import Testing

/// Every value a page shows comes from the suite or the operator, so none may become markup.
@Suite struct HTMLEscapingTests {
    @Test func escapesTheFiveCharactersThatEndTextOrAttributes() {
        #expect(HTML.escape("<script>alert('x') & \"y\"</script>") == "&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;")
        #expect(HTML.escape("用户 ok") == "用户 ok")
    }

    @Test func queryComponentsKeepReservedCharactersInside() {
        #expect(HTML.query("a&b=c d#e/用") == "a%26b%3Dc%20d%23e%2F%E7%94%A8")
        #expect(FormData("id=" + HTML.query("a&b=c d#e/用"))["id"] == "a&b=c d#e/用")
    }

    @Test func formDataDecodesPlusPercentAndKeepsTheFirstOfARepeatedName() {
        let form = FormData("api_key=rk_a%2Bb&x=1+2&x=3&bad=%zz&empty")
        #expect(form["api_key"] == "rk_a+b")
        #expect(form["x"] == "1 2")
        #expect(form["bad"] == "%zz")
        #expect(form["empty"] == "")
        #expect(form.trimmed("empty") == nil)
    }

    @Test func aHostileUserIDOnAPageStaysText() {
        let hostile = "<img src=x onerror=alert(1)>\"'"
        let churn = Retain_V1_ListChurnWarningsResponse(
            warnings: [.init(userId: hostile, reasonText: "<b>drop</b>", drop: 0.5, channel: "<i>ads</i>")])
        let page = OverviewPage(
            totalUsers: .value(1), retention: .failed("<svg onload=x>"), stages: .denied(scope: "profile:read"), churn: .value(churn),
            channel: "", days: 42, activeUsers: .failed("<script>x</script>"))
        let html = page.render(PageContext(language: .en, session: nil, path: "/overview"))
        #expect(!html.contains("<script>x"))
        #expect(!html.contains("<img"))
        #expect(!html.contains("<b>drop"))
        #expect(!html.contains("<i>ads"))
        #expect(!html.contains("<svg onload"))
        #expect(html.contains("&lt;img src=x onerror=alert(1)&gt;&quot;&#39;"))
        #expect(html.contains("/user?id=%3Cimg%20src%3Dx"))
    }

    @Test func theActiveUsersPanelShowsTheLastCompleteDay() {
        let day: Int64 = 86_400_000
        let active = Retain_V1_GetActiveUsersResponse(days: [
            .init(dayStartMs: 10 * day, allChannels: true, dau: 5, wau: 9, mau: 30, complete: true),
            .init(dayStartMs: 10 * day, channel: "ads", dau: 2, wau: 3, mau: 4, complete: true),
            .init(dayStartMs: 11 * day, allChannels: true, dau: 7, wau: 12, mau: 31, complete: true),
            .init(dayStartMs: 12 * day, allChannels: true, dau: 1, wau: 12, mau: 31, complete: false),
        ])
        let page = OverviewPage(
            totalUsers: .value(1), retention: .failed("x"), stages: .value([]), churn: .failed("x"), channel: "", days: 3,
            activeUsers: .value(active))
        let html = page.render(PageContext(language: .en, session: nil, path: "/overview"))
        #expect(html.contains("data-active-day=\"\(11 * day)\""))
        #expect(html.contains("data-figure=\"dau\">7<"))
        #expect(html.contains("data-figure=\"wau\">12<"))
        #expect(html.contains("data-figure=\"mau\">31<"))
    }
}
