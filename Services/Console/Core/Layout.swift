import RetainAuth

/// The frame of every page: the document head with the style sheet inline (nothing is fetched
/// from anywhere), the navigation, the language switch and sign-out, then the page's body.
public enum Layout {
    /// The navigation tabs: path and label.
    static let tabs: [(path: String, key: TextKey)] = [
        ("/overview", .navOverview), ("/funnel", .navFunnel), ("/user", .navUser), ("/feedback", .navFeedback), ("/levels", .navLevels),
        ("/ledger", .navLedger),
        ("/campaigns", .navCampaigns), ("/segments", .navSegments), ("/rules", .navRules),
    ]

    /// A whole HTML document.
    public static func page(_ context: PageContext, title: String, body: String) -> String {
        let text = context.text
        var html = """
            <!DOCTYPE html>
            <html lang="\(text.language.htmlCode)"><head><meta charset="utf-8">\
            <meta name="viewport" content="width=device-width, initial-scale=1">\
            <title>\(HTML.escape(title)) · \(HTML.escape(text[.appName]))</title><style>\(style)</style></head><body>
            <header><strong>\(HTML.escape(text[.appName]))</strong><nav>
            """
        if context.session != nil {
            for tab in tabs {
                let current = context.path == tab.path ? " class=\"current\" aria-current=\"page\"" : ""
                html += "<a href=\"\(tab.path)\"\(current)>\(HTML.escape(text[tab.key]))</a>"
            }
        }
        html += "</nav><div class=\"who\">"
        let other: Language = text.language == .en ? .zh : .en
        html += """
            <form method="post" action="/lang" class="inline"><input type="hidden" name="lang" value="\(other.rawValue)">\
            <input type="hidden" name="back" value="\(HTML.escape(context.path))">\(context.formTokenField)\
            <button type="submit" id="lang-switch">\(HTML.escape(text[.otherLanguage]))</button></form>
            """
        if let session = context.session {
            html += """
                <span class="key" title="\(HTML.escape(text[.scopes])): \(HTML.escape(session.scopes.description))">\
                \(HTML.escape(text[.signedInAs])): <b id="key-id">\(HTML.escape(session.keyID))</b> \
                (<span id="key-scopes">\(HTML.escape(session.scopes.description))</span>)</span>\
                <form method="post" action="/signout" class="inline">\(context.formTokenField)\
                <button type="submit" id="sign-out">\(HTML.escape(text[.signOut]))</button></form>
                """
        }
        html += "</div></header><main>"
        if let notice = context.notice {
            html += "<p class=\"notice\(notice.failed ? " failed" : "")\" id=\"notice\">\(HTML.escape(notice.message))</p>"
        }
        html += "<h1>\(HTML.escape(title))</h1>" + body + "</main></body></html>\n"
        return html
    }

    /// A section with a heading.
    public static func section(_ title: String, id: String, _ body: String) -> String {
        "<section id=\"\(id)\"><h2>\(HTML.escape(title))</h2>\(body)</section>"
    }

    /// The body of a section that did not load: why, in the page's language.
    public static func unavailable<T>(_ loaded: Loaded<T>, _ text: Localizer) -> String? {
        switch loaded {
        case .value: nil
        case .denied(let scope):
            "<p class=\"denied\">\(HTML.escape(text[.notAllowed])) <code>\(HTML.escape(scope))</code></p>"
        case .failed(let message):
            "<p class=\"failed\">\(HTML.escape(text[.unavailable])): \(HTML.escape(message))</p>"
        }
    }

    /// A table: header cells and rows of cells that are already HTML (callers escape values).
    public static func table(id: String? = nil, _ header: [String], _ rows: [[String]], rowClasses: [String?] = []) -> String {
        var html = "<table\(id.map { " id=\"\($0)\"" } ?? "")><thead><tr>"
        for cell in header { html += "<th>\(HTML.escape(cell))</th>" }
        html += "</tr></thead><tbody>"
        for (index, row) in rows.enumerated() {
            let rowClass = index < rowClasses.count ? rowClasses[index] : nil
            html += rowClass.map { "<tr class=\"\($0)\">" } ?? "<tr>"
            for cell in row { html += "<td>\(cell)</td>" }
            html += "</tr>"
        }
        return html + "</tbody></table>"
    }

    /// A figure: a label and a number, with a `data-figure` name tests read.
    public static func figure(_ label: String, _ value: String, name: String) -> String {
        "<div class=\"figure\"><span>\(HTML.escape(label))</span><b data-figure=\"\(name)\">\(HTML.escape(value))</b></div>"
    }

    static let style = """
        body{font-family:"Noto Sans CJK SC","WenQuanYi Zen Hei",system-ui,sans-serif;margin:0;color:#222;background:#f6f7f9}\
        header{display:flex;gap:1.5em;align-items:center;background:#1f2d3d;color:#fff;padding:.6em 1.2em}\
        header nav a{color:#cfd8e3;margin-right:1em;text-decoration:none}header nav a.current{color:#fff;border-bottom:2px solid #f28e2b}\
        .who{margin-left:auto;display:flex;gap:.8em;align-items:center;font-size:.9em}\
        main{padding:1em 1.5em}section{background:#fff;border:1px solid #e2e6ea;border-radius:6px;padding:.8em 1em;margin:0 0 1em}\
        h1{font-size:1.4em}h2{font-size:1.1em;margin-top:0}table{border-collapse:collapse;font-size:.9em}\
        th,td{border-bottom:1px solid #e8e8e8;padding:.3em .6em;text-align:left;vertical-align:top}\
        tr.overdue td{background:#fde8e8}tr.overdue td:first-child{border-left:4px solid #e15759}\
        .figures{display:flex;gap:1em;flex-wrap:wrap}.figure{background:#fff;border:1px solid #e2e6ea;border-radius:6px;padding:.6em 1em}\
        .figure span{display:block;font-size:.8em;color:#666}.figure b{font-size:1.4em}\
        .notice{background:#e8f5e9;border:1px solid #a5d6a7;padding:.5em 1em}.notice.failed,.failed{background:#fdecea;border-color:#f5c6cb}\
        .denied{color:#8a6d3b;background:#fcf8e3;padding:.4em .8em}.needs-rpc{border:2px dashed #f28e2b;background:#fff8f0}\
        form.inline{display:inline}form.actions{display:flex;gap:.4em;flex-wrap:wrap;align-items:center;margin:.2em 0}\
        .chart{max-width:100%;height:auto;background:#fff}code{background:#eef;padding:0 .3em}\
        pre.diff{background:#fafafa;border:1px solid #e2e6ea;padding:.5em;font-size:.85em;overflow-x:auto}\
        pre.diff del{display:block;background:#fdecea;text-decoration:none}pre.diff ins{display:block;background:#e8f5e9;text-decoration:none}\
        pre.diff .folded{color:#888}
        """
}
