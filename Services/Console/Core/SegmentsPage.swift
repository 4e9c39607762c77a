public import RetainProto

/// Saved segments (docs/PROFILE.md#saved-segments): every definition, and for the one chosen its
/// rule, its member count now and as of a day, and its first page of members, each linking to
/// the User page (Profile.ListSavedSegments, Gateway.CountSavedSegment and
/// Gateway.ListSavedSegmentMembers, which evaluate the rule over every shard).
public struct SegmentsPage: Sendable {
    /// Every saved segment.
    public var list: Loaded<Retain_V1_ListSavedSegmentsResponse>
    /// The segment shown, if any.
    public var chosen: String?
    /// Its member count now.
    public var countNow: Loaded<Retain_V1_CountSavedSegmentResponse>?
    /// Its member count as of the end of the day asked, when one was.
    public var countAsOf: Loaded<Retain_V1_CountSavedSegmentResponse>?
    /// The end of the day asked (Unix ms), when one was.
    public var asOfMs: Int64?
    /// The first page of members (as of the day asked, else now).
    public var members: Loaded<Retain_V1_ListSavedSegmentMembersResponse>?

    /// Members on the page.
    public static let pageSize: UInt32 = 50

    public init(
        list: Loaded<Retain_V1_ListSavedSegmentsResponse>, chosen: String?, countNow: Loaded<Retain_V1_CountSavedSegmentResponse>? = nil,
        countAsOf: Loaded<Retain_V1_CountSavedSegmentResponse>? = nil, asOfMs: Int64? = nil,
        members: Loaded<Retain_V1_ListSavedSegmentMembersResponse>? = nil
    ) {
        self.list = list
        self.chosen = chosen
        self.countNow = countNow
        self.countAsOf = countAsOf
        self.asOfMs = asOfMs
        self.members = members
    }

    /// The segment to show: the one asked if it exists, else the first by name.
    public static func choose(_ list: Retain_V1_ListSavedSegmentsResponse, asked: String?) -> String? {
        if let asked, list.segments.contains(where: { $0.name == asked }) { return asked }
        return list.segments.first?.name
    }

    /// The page.
    public func render(_ context: PageContext) -> String {
        let text = context.text
        if let reason = Layout.unavailable(list, text) {
            return Layout.page(context, title: text[.navSegments], body: Layout.section(text[.savedSegments], id: "segments", reason))
        }
        guard let segments = list.value?.segments, !segments.isEmpty else {
            return Layout.page(
                context, title: text[.navSegments],
                body: Layout.section(text[.savedSegments], id: "segments", "<p>\(HTML.escape(text[.noSegments]))</p>"))
        }
        let rows = segments.map { segment -> [String] in
            let name = HTML.escape(segment.name)
            let link = "<a href=\"/segments?name=\(HTML.query(segment.name))\" data-segment=\"\(name)\">\(name)</a>"
            return [
                segment.name == chosen ? "<b>\(link)</b>" : link, "v\(segment.version)", HTML.escape(segment.description),
                HTML.escape(segment.updatedBy), Format.time(segment.updatedAtMs),
            ]
        }
        var body = Layout.section(
            text[.savedSegments], id: "segments",
            Layout.table(
                id: "segment-table", [text[.segmentName], text[.version], text[.description], text[.author], text[.updated]], rows))
        if let chosen, let segment = segments.first(where: { $0.name == chosen }) {
            body += Layout.section(chosen, id: "segment", detail(segment, context))
        }
        return Layout.page(context, title: text[.navSegments], body: body)
    }

    /// One segment: rule, counts, first members.
    private func detail(_ segment: Retain_V1_SavedSegment, _ context: PageContext) -> String {
        let text = context.text
        let day = asOfMs.map { Format.date($0 - 1) } ?? ""
        var html = """
            <form method="get" action="/segments" class="actions" id="as-of-form">\
            <input type="hidden" name="name" value="\(HTML.escape(segment.name))"><label>\(HTML.escape(text[.asOf])) \
            <input type="date" name="as_of" value="\(HTML.escape(day))"></label>\
            <button type="submit">\(HTML.escape(text[.show]))</button></form>
            """
        html += "<div class=\"figures\">"
        html += count(countNow, label: text[.membersNow], name: "members-now", text)
        if let countAsOf { html += count(countAsOf, label: "\(text[.membersAsOf]) \(day)", name: "members-as-of", text) }
        html += "</div>"
        let rule = (try? ProtoJSON.decode(segment.rule?.serializedBytes() ?? [], as: Retain_V1_SegmentRule.messageDescriptor)) ?? ""
        html += "<h3>\(HTML.escape(text[.rule]))</h3><pre id=\"segment-rule\">\(HTML.escape(rule))</pre>"
        html += "<h3>\(HTML.escape(text[.firstMembers]))\(asOfMs == nil ? "" : " (\(HTML.escape(day)))")</h3>"
        if let members {
            if let reason = Layout.unavailable(members, text) {
                html += reason
            } else if let page = members.value {
                let rows = page.members.map { member in
                    ["<a class=\"member\" href=\"/user?id=\(HTML.query(member.userId))\">\(HTML.escape(member.userId))</a>"]
                        + member.values.map { HTML.escape($0) }
                }
                html += Layout.table(id: "member-table", [text[.userId]] + page.columns, rows)
                if !(page.pageInfo?.nextPageToken ?? "").isEmpty { html += "<p class=\"note\">\(HTML.escape(text[.moreMembers]))</p>" }
            }
        }
        return html
    }

    /// A count figure, or why it is missing.
    private func count(_ loaded: Loaded<Retain_V1_CountSavedSegmentResponse>?, label: String, name: String, _ text: Localizer) -> String {
        guard let loaded else { return "" }
        if let reason = Layout.unavailable(loaded, text) {
            return "<div class=\"figure\"><span>\(HTML.escape(label))</span>\(reason)</div>"
        }
        return Layout.figure(label, Format.count(loaded.value?.count ?? 0), name: name)
    }
}
