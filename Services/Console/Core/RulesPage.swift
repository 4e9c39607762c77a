public import RetainProto

/// Live configuration (retain.v1.RuleSets, docs/CONFIG.md): for one service, the rule set in
/// force, its history (number, author, reason, created, effective from), the changes between two
/// versions, and for admin keys a rollback to any other version.
public struct RulesPage: Sendable {
    /// The services with a rule set: the `service` field of the calls, and the rule set's name.
    public static let services: [(service: String, ruleSet: String)] = [
        ("growth", "growth"), ("profile", "profile"), ("feedback", "feedback"), ("ledger", "flows"),
    ]

    /// The service shown.
    public var service: String
    /// ListRuleSetVersions with documents.
    public var versions: Loaded<Retain_V1_ListRuleSetVersionsResponse>
    /// The versions to compare (old, new); nil for the one before the version in force and it.
    public var compare: (from: UInt64, to: UInt64)?
    /// The time the page was read (which versions still wait).
    public var nowMs: Int64

    public init(service: String, versions: Loaded<Retain_V1_ListRuleSetVersionsResponse>, compare: (UInt64, UInt64)? = nil, nowMs: Int64) {
        self.service = service
        self.versions = versions
        self.compare = compare.map { (from: $0.0, to: $0.1) }
        self.nowMs = nowMs
    }

    /// The versions compared: those asked when both exist, else the one before the version in
    /// force (or the newest) and it; nil with fewer than two versions.
    public static func compared(
        _ list: Retain_V1_ListRuleSetVersionsResponse, asked: (from: UInt64, to: UInt64)?
    ) -> (
        Retain_V1_RuleSetVersion, Retain_V1_RuleSetVersion
    )? {
        func find(_ number: UInt64) -> Retain_V1_RuleSetVersion? { list.versions.first { $0.version == number } }
        if let asked, let from = find(asked.from), let to = find(asked.to) { return (from, to) }
        let newest = list.inForceVersion != 0 ? list.inForceVersion : list.versions.last?.version ?? 0
        guard newest > 1, let from = find(newest - 1), let to = find(newest) else { return nil }
        return (from, to)
    }

    /// The page.
    public func render(_ context: PageContext) -> String {
        let text = context.text
        var tabs = "<p class=\"actions\" id=\"rule-services\">"
        for entry in Self.services {
            tabs +=
                entry.service == service
                ? "<b>\(HTML.escape(entry.service)) (\(HTML.escape(entry.ruleSet)))</b> "
                : "<a href=\"/rules?service=\(entry.service)\" id=\"rules-\(entry.service)\">\(entry.service) (\(entry.ruleSet))</a> "
        }
        tabs += "</p>"
        if let reason = Layout.unavailable(versions, text) {
            return Layout.page(context, title: text[.navRules], body: tabs + Layout.section(text[.ruleSetInForce], id: "in-force", reason))
        }
        guard let list = versions.value else { return Layout.page(context, title: text[.navRules], body: tabs) }
        let inForce = list.versions.first { $0.version == list.inForceVersion }
        var current = ""
        if let inForce {
            var figures = "<div class=\"figures\">"
            figures += Layout.figure(text[.version], String(inForce.version), name: "in-force-version")
            figures += Layout.figure(text[.author], inForce.author, name: "in-force-author")
            figures += Layout.figure(text[.effectiveFrom], Format.time(inForce.effectiveFromMs), name: "in-force-from")
            figures += "</div>"
            current =
                figures + "<p>\(HTML.escape(text[.reason])): \(HTML.escape(inForce.reason))</p>"
                + "<details><summary>\(HTML.escape(text[.document]))</summary><pre id=\"in-force-document\">"
                + HTML.escape(String(decoding: inForce.document, as: UTF8.self)) + "</pre></details>"
        } else {
            current = "<p>\(HTML.escape(text[.noData]))</p>"
        }
        var body = tabs + Layout.section(text[.ruleSetInForce], id: "in-force", current)
        let admin = context.session?.permissions.has("admin") ?? false
        let rows = list.versions.reversed().map { version -> [String] in
            var state = ""
            if version.version == list.inForceVersion {
                state = " <b>(\(HTML.escape(text[.ruleSetInForce])))</b>"
            } else if version.effectiveFromMs > nowMs {
                state = " (\(HTML.escape(text[.waiting])))"
            }
            var action = ""
            if admin, version.version != list.inForceVersion {
                action = """
                    <form method="post" action="/rules/rollback" class="actions rollback">\(context.formTokenField)\
                    <input type="hidden" name="service" value="\(HTML.escape(service))">\
                    <input type="hidden" name="to_version" value="\(version.version)">\
                    <input name="reason" placeholder="\(HTML.escape(text[.rollbackReason]))" maxlength="200">\
                    <button type="submit" id="rollback-\(version.version)">\(HTML.escape(text[.rollBack]))</button></form>
                    """
            }
            return [
                "<span data-version=\"\(version.version)\">\(version.version)</span>\(state)", HTML.escape(version.author),
                HTML.escape(version.reason), Format.time(version.createdAtMs), Format.time(version.effectiveFromMs),
                version.rollbackOf == 0 ? "" : String(version.rollbackOf), action,
            ]
        }
        var history = Layout.table(
            id: "version-table",
            [text[.version], text[.author], text[.reason], text[.created], text[.effectiveFrom], text[.rollbackOf], text[.actions]], rows)
        if !admin { history += "<p class=\"note\">\(HTML.escape(text[.rollbackNeedsAdmin]))</p>" }
        body += Layout.section(text[.ruleSetHistory], id: "history", history)
        body += Layout.section(text[.diffBetween], id: "diff", diffSection(list, text))
        return Layout.page(context, title: text[.navRules], body: body)
    }

    /// The form choosing two versions, and their diff.
    private func diffSection(_ list: Retain_V1_ListRuleSetVersionsResponse, _ text: Localizer) -> String {
        guard let (from, to) = Self.compared(list, asked: compare) else { return "<p>\(HTML.escape(text[.noData]))</p>" }
        func select(_ name: String, _ chosen: UInt64) -> String {
            "<select name=\"\(name)\">"
                + list.versions.map { "<option value=\"\($0.version)\"\($0.version == chosen ? " selected" : "")>\($0.version)</option>" }
                .joined() + "</select>"
        }
        var html = """
            <form method="get" action="/rules" class="actions" id="diff-form"><input type="hidden" name="service" \
            value="\(HTML.escape(service))">\(select("from", from.version)) → \(select("to", to.version))\
            <button type="submit">\(HTML.escape(text[.compare]))</button></form>
            """
        let diff = LineDiff(
            old: String(decoding: from.document, as: UTF8.self), new: String(decoding: to.document, as: UTF8.self))
        guard diff.changed else { return html + "<p id=\"no-difference\">\(HTML.escape(text[.noDifference]))</p>" }
        html += "<pre class=\"diff\" id=\"rule-diff\" data-from=\"\(from.version)\" data-to=\"\(to.version)\">"
        for line in diff.lines {
            switch line {
            case .same(let value): html += "<span>  \(HTML.escape(value))</span>\n"
            case .removed(let value): html += "<del>- \(HTML.escape(value))</del>\n"
            case .added(let value): html += "<ins>+ \(HTML.escape(value))</ins>\n"
            case .folded(let count): html += "<span class=\"folded\">  … \(count) \(HTML.escape(text[.unchangedLines]))</span>\n"
            }
        }
        return html + "</pre>"
    }
}
