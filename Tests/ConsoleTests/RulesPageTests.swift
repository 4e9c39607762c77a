import ConsoleCore
import RetainAuth
import RetainProto
import Testing

/// The Rules page: a rule set's history, the diff of two versions, rollback forms for admins only.
@Suite struct RulesPageTests {
    let list = Retain_V1_ListRuleSetVersionsResponse(
        versions: [
            .init(
                ruleSet: "growth", version: 1, author: "file", reason: "growth.json", createdAtMs: 1_000, effectiveFromMs: 1_000,
                document: Array("{\n  \"a\": 1,\n  \"b\": 2,\n  \"c\": 3\n}".utf8)),
            .init(
                ruleSet: "growth", version: 2, author: "ops<1>", reason: "raise b", createdAtMs: 2_000, effectiveFromMs: 2_000,
                document: Array("{\n  \"a\": 1,\n  \"b\": 5,\n  \"c\": 3\n}".utf8)),
            .init(
                ruleSet: "growth", version: 3, author: "ops", reason: "later", createdAtMs: 3_000, effectiveFromMs: 9_000,
                document: Array("{\n  \"a\": 1\n}".utf8)),
        ], inForceVersion: 2)

    func session(_ scopes: ScopeSet) -> ConsoleSession {
        let store = SessionStore(nowMs: { 0 })
        return store.create(apiKey: "rk_x", keyID: "k", scopes: scopes, language: .en)
    }

    @Test func theDiffShowsChangedLinesAndFoldsTheRest() {
        let diff = LineDiff(old: "x\n1\n2\n3\n4\n5\n6\n7\ny", new: "x\n1\n2\n3\n4\n5\n6\n7\nz")
        #expect(diff.lines == [.folded(5), .same("5"), .same("6"), .same("7"), .removed("y"), .added("z")])
        #expect(!LineDiff(old: "a\nb", new: "a\nb").changed)
        #expect(LineDiff(old: "", new: "a").changed)
    }

    @Test func historyInForceAndTheDiffOfTheVersionBeforeIt() throws {
        let html = RulesPage(service: "growth", versions: .value(list), nowMs: 5_000)
            .render(PageContext(language: .en, session: session(.admin), path: "/rules"))
        #expect(html.contains("data-figure=\"in-force-version\">2<") && html.contains("ops&lt;1&gt;"))
        #expect(html.contains("data-from=\"1\" data-to=\"2\"") && html.contains("<del>-   &quot;b&quot;: 2,</del>"))
        #expect(html.contains("<ins>+   &quot;b&quot;: 5,</ins>") && html.contains("(waiting)"))
        // Rollback to any other version, not to the one in force.
        #expect(html.contains("id=\"rollback-1\"") && html.contains("id=\"rollback-3\"") && !html.contains("id=\"rollback-2\""))
        let asked = RulesPage(service: "growth", versions: .value(list), compare: (3, 1), nowMs: 5_000)
            .render(PageContext(language: .zh, session: session(try ScopeSet(names: ["growth:read"])), path: "/rules"))
        #expect(asked.contains("data-from=\"3\" data-to=\"1\"") && !asked.contains("rollback-1") && asked.contains("回滚需要 admin 权限"))
        #expect(RulesPage.compared(list, asked: (7, 1))?.0.version == 1, "an unknown version falls back to the one before the one in force")
    }
}
