public import RetainProto

/// The feedback desk: open items by priority then due time, overdue ones highlighted, with
/// triage, reply and resolve-with-compensation forms where the key may use them.
public struct FeedbackDeskPage: Sendable {
    /// Open items, priority first then due time (ListFeedback sorted by PRIORITY).
    public var queue: Loaded<Retain_V1_ListFeedbackResponse>
    /// Open and overdue counts per team and priority, and the breach rate.
    public var stats: Loaded<Retain_V1_GetFeedbackStatsResponse>
    /// Now, Unix ms (what "overdue" is judged against on this page).
    public var nowMs: Int64

    public init(queue: Loaded<Retain_V1_ListFeedbackResponse>, stats: Loaded<Retain_V1_GetFeedbackStatsResponse>, nowMs: Int64) {
        self.queue = queue
        self.stats = stats
        self.nowMs = nowMs
    }

    /// The page.
    public func render(_ context: PageContext) -> String {
        let text = context.text
        var body = "<div class=\"figures\">"
        if let stats = stats.value {
            body += Layout.figure(text[.openItems], Format.count(stats.openTotal), name: "open-total")
            body += Layout.figure(text[.overdueItems], Format.count(stats.overdueTotal), name: "overdue-total")
        } else if let reason = Layout.unavailable(stats, text) {
            body += reason
        }
        body += "</div>"
        body += Layout.section(text[.queue], id: "queue", queueSection(context))
        return Layout.page(context, title: text[.navFeedback], body: body)
    }

    func queueSection(_ context: PageContext) -> String {
        let text = context.text
        if let reason = Layout.unavailable(queue, text) { return reason }
        guard let items = queue.value?.items, !items.isEmpty else { return "<p>\(HTML.escape(text[.noData]))</p>" }
        let permissions = context.session?.permissions
        var rows: [[String]] = []
        var classes: [String?] = []
        for item in items {
            let overdue = item.overdue || (item.dueAtMs > 0 && item.dueAtMs < nowMs)
            classes.append(overdue ? "overdue" : nil)
            var actions = ""
            if permissions?.writesFeedback == true {
                actions += triageForm(item, context)
                actions += replyForm(item, context)
            }
            if permissions?.resolvesFeedback == true { actions += resolveForm(item, context) }
            rows.append([
                "<span class=\"item-id\" data-item=\"\(HTML.escape(item.itemId))\">\(HTML.escape(item.itemId))</span>",
                HTML.escape(text[Names.key(item.priority)]), HTML.escape(text[Names.key(item.kind)]),
                "<a href=\"/user?id=\(HTML.query(item.userId))\">\(HTML.escape(item.userId))</a>", HTML.escape(item.text),
                HTML.escape(item.team), HTML.escape(text[Names.key(item.status)]),
                HTML.escape(Format.time(item.dueAtMs)) + (overdue ? " <b class=\"overdue-mark\">\(HTML.escape(text[.overdue]))</b>" : ""),
                actions,
            ])
        }
        return Layout.table(
            id: "queue-table",
            [text[.item], text[.priority], text[.kind], text[.user], text[.text], text[.team], text[.status], text[.due], text[.actions]],
            rows, rowClasses: classes)
    }

    /// The item, the form token, and the request id of this action on this item as the page
    /// shows it (its last change): a form posted twice (a double click, a reload that posts
    /// again) carries the same id, so the workflow answers the second with the first.
    func hidden(_ item: Retain_V1_FeedbackItem, _ context: PageContext, action: String) -> String {
        let requestID = "console-\(action)-\(item.itemId)-\(item.updatedAtMs)"
        return "<input type=\"hidden\" name=\"item_id\" value=\"\(HTML.escape(item.itemId))\">"
            + "<input type=\"hidden\" name=\"request_id\" value=\"\(HTML.escape(requestID))\">" + context.formTokenField
    }

    func triageForm(_ item: Retain_V1_FeedbackItem, _ context: PageContext) -> String {
        let text = context.text
        return """
            <form method="post" action="/feedback/triage" class="actions triage">\(hidden(item, context, action: "triage"))\
            <label><input type="checkbox" name="urgent" value="1"\(item.urgent ? " checked" : "")>\(HTML.escape(text[.urgent]))</label>\
            <label><input type="checkbox" name="important" value="1"\(item.important ? " checked" : "")>\(HTML.escape(text[.important]))</label>\
            <button type="submit">\(HTML.escape(text[.triage]))</button></form>
            """
    }

    func replyForm(_ item: Retain_V1_FeedbackItem, _ context: PageContext) -> String {
        let text = context.text
        return """
            <form method="post" action="/feedback/reply" class="actions reply">\(hidden(item, context, action: "reply"))\
            <input type="text" name="text" placeholder="\(HTML.escape(text[.replyPlaceholder]))" required>\
            <button type="submit">\(HTML.escape(text[.reply]))</button></form>
            """
    }

    func resolveForm(_ item: Retain_V1_FeedbackItem, _ context: PageContext) -> String {
        let text = context.text
        var options = ""
        let preferred: Retain_V1_FeedbackOutcome = item.kind == .question ? .answered : .fixed
        for (outcome, key) in Names.outcomes {
            options += "<option value=\"\(outcome.rawValue)\"\(outcome == preferred ? " selected" : "")>\(HTML.escape(text[key]))</option>"
        }
        return """
            <form method="post" action="/feedback/resolve" class="actions resolve">\(hidden(item, context, action: "resolve"))\
            <select name="outcome" aria-label="\(HTML.escape(text[.outcome]))">\(options)</select>\
            <input type="text" name="answer" placeholder="\(HTML.escape(text[.answer]))">\
            <label>\(HTML.escape(text[.compensationPoints])) <input type="number" name="points" min="0" max="100000" value="0" size="6"></label>\
            <button type="submit" class="resolve-button">\(HTML.escape(text[.resolve]))</button></form>
            """
    }
}
