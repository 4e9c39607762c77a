import FeedbackCore
import RetainProto
import Testing

@Suite("listing and search")
struct ListingTests {
    /// A small deterministic random source.
    struct Random {
        var state: UInt64
        mutating func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
    }

    /// A desk with `count` items of every kind, category, priority and status, submitted over
    /// ten days (some at the same millisecond); user "rare" has few enough items (1 in 100) for
    /// their posting list to drive listings.
    static func populated(_ count: Int = 300, seed: UInt64 = 7) throws -> (FeedbackDesk, [String]) {
        var desk = FeedbackDesk()
        var random = Random(state: seed)
        let kinds: [Retain_V1_FeedbackKind] = [.suggestion, .complaint, .bug, .question]
        let categories = ["payment", "delivery", "account", "general", "refund"]
        let texts = ["My refund is late", "App crashes", "Where is the REFUND button?", "Päckchen kam nicht an", "Please add dark mode"]
        var ids: [String] = []
        let base = desk.now
        for index in 0..<count {
            desk.now = base + Int64(index / 3) * 60_000
            let at = base - Int64(random.next(10)) * FeedbackDesk.day - Int64(random.next(3)) * 1_000
            let user = index % 100 == 0 ? "rare" : "u\(random.next(12))"
            let item = try desk.submit(
                user: user, kind: kinds[random.next(4)], category: categories[random.next(5)],
                text: texts[random.next(texts.count)], urgent: random.next(2) == 0,
                important: random.next(3) == 0, at: at)
            ids.append(item.itemId)
            switch random.next(8) {
            case 0: try desk.triage(item.itemId, urgent: true, important: random.next(2) == 0)
            case 1: try desk.assign(item.itemId, to: "agent\(random.next(3))")
            case 2:
                try desk.assign(item.itemId, to: "agent\(random.next(3))")
                try desk.start(item.itemId)
            case 3:
                try desk.resolve(
                    item.itemId, outcome: .fixed, answer: "ok",
                    compensation: random.next(2) == 0 ? .init(value: 10, asset: "points") : nil)
            case 4:
                try desk.resolve(item.itemId, answer: "ok")
                try desk.close(item.itemId)
            case 5:
                try desk.resolve(item.itemId, answer: "ok")
                try desk.reopen(item.itemId)
            default: break
            }
        }
        desk.now = base + FeedbackDesk.day
        return (desk, ids)
    }

    /// The expected listing, computed the slow way from every item.
    static func expected(
        _ desk: FeedbackDesk, _ ids: [String], _ filter: Retain_V1_FeedbackFilter,
        _ sort: Retain_V1_FeedbackSort
    ) throws -> [String] {
        let order = Dictionary(uniqueKeysWithValues: ids.enumerated().map { ($1, $0) })
        let items = try ids.map { try desk.state.item($0, nowMs: desk.now) }.filter { item in
            (filter.statuses.isEmpty || filter.statuses.contains(item.status))
                && (filter.kinds.isEmpty || filter.kinds.contains(item.kind))
                && (filter.priorities.isEmpty || filter.priorities.contains(item.priority))
                && (filter.teams.isEmpty || filter.teams.contains(item.team))
                && (filter.categories.isEmpty || filter.categories.contains(item.category))
                && (filter.userId.isEmpty || filter.userId == item.userId)
                && (filter.assignee.isEmpty || filter.assignee == item.assignee)
                && (!filter.overdueOnly || item.overdue)
                && (filter.created.map {
                    ($0.startMs == 0 || item.createdAtMs >= $0.startMs) && ($0.endMs == 0 || item.createdAtMs < $0.endMs)
                } ?? true)
                && (filter.textContains.isEmpty || item.text.lowercased().contains(filter.textContains.lowercased()))
                && (filter.compensationState == .unspecified || item.compensation?.state == filter.compensationState)
        }
        let sorted = items.sorted { lhs, rhs in
            let left = order[lhs.itemId]!
            let right = order[rhs.itemId]!
            switch sort {
            case .oldest: return (lhs.createdAtMs, left) < (rhs.createdAtMs, right)
            case .priority: return (lhs.priority.rawValue, lhs.dueAtMs, left) < (rhs.priority.rawValue, rhs.dueAtMs, right)
            case .due: return (lhs.dueAtMs, left) < (rhs.dueAtMs, right)
            default: return (lhs.createdAtMs, left) > (rhs.createdAtMs, right)
            }
        }
        return sorted.map(\.itemId)
    }

    static let filters: [Retain_V1_FeedbackFilter] = [
        .init(),
        .init(statuses: [.new]),
        .init(statuses: [.new, .triaged, .reopened]),
        .init(kinds: [.complaint, .bug], priorities: [.urgentImportant, .urgent]),
        .init(teams: ["billing", "logistics"]),
        .init(teams: ["nobody"]),
        .init(userId: "u3"),
        .init(userId: "nobody"),
        .init(userId: "rare"),
        .init(statuses: [.new, .resolved, .closed], userId: "rare"),
        .init(kinds: [.question], created: .init(startMs: 1_700_000_000_000 - 4 * 86_400_000)),
        .init(created: .init(endMs: 1_700_000_000_000 - 3 * 86_400_000), textContains: "refund"),
        .init(statuses: [.new], overdueOnly: true, textContains: "app"),
        .init(assignee: "agent1"),
        .init(categories: ["refund", "account"]),
        .init(overdueOnly: true),
        .init(priorities: [.routine], overdueOnly: true),
        .init(created: .init(startMs: 1_700_000_000_000 - 5 * 86_400_000, endMs: 1_700_000_000_000 - 2 * 86_400_000)),
        .init(textContains: "refund"),
        .init(textContains: "PÄCKCHEN"),
        .init(compensationState: .owed),
        .init(statuses: [.new, .assigned], teams: ["billing", "support"], textContains: "refund"),
    ]

    @Test(
        "every filter and order, paged through its tokens, gives exactly the items and total a full scan gives",
        arguments: [Retain_V1_FeedbackSort.newest, .unspecified, .oldest, .priority, .due])
    func matchesFullScan(sort: Retain_V1_FeedbackSort) throws {
        let (desk, ids) = try Self.populated()
        for filter in Self.filters {
            let expected = try Self.expected(desk, ids, filter, sort)
            for size: UInt32 in [1, 7, 1000] {
                let (listed, total) = try desk.listAll(filter, sort: sort, pageSize: size)
                #expect(listed == expected, "filter \(filter), sort \(sort), page \(size)")
                #expect(total == UInt64(expected.count), "filter \(filter), sort \(sort)")
            }
        }
    }

    @Test("ListOverdue lists overdue items earliest due first, by team and priority, paged")
    func overdueListing() throws {
        let (desk, ids) = try Self.populated()
        for (teams, priorities) in [([String](), [Retain_V1_FeedbackPriority]()), (["billing"], []), ([], [.routine]), (["x"], [])] {
            let expected = try Self.expected(desk, ids, .init(priorities: priorities, teams: teams, overdueOnly: true), .due)
            var request = Retain_V1_ListOverdueRequest(teams: teams, priorities: priorities, page: .init(pageSize: 6))
            var listed: [String] = []
            var total: UInt64 = 0
            while true {
                let page = try desk.state.listOverdue(request, nowMs: desk.now)
                listed += page.items.map(\.itemId)
                #expect(page.items.allSatisfy { $0.overdue })
                total = page.pageInfo?.total ?? 0
                guard let token = page.pageInfo?.nextPageToken, !token.isEmpty else { break }
                request.page?.pageToken = token
            }
            #expect(listed == expected)
            #expect(total == UInt64(expected.count))
        }
    }

    @Test("a page token works only with the filters it was issued for; sizes above 1000 are refused")
    func tokens() throws {
        let (desk, _) = try Self.populated(60)
        let first = try desk.state.list(.init(filter: .init(statuses: [.new]), page: .init(pageSize: 2)), nowMs: desk.now)
        let token = try #require(first.pageInfo?.nextPageToken)
        #expect(!token.isEmpty)
        #expect(
            throws: FeedbackError.invalid(field: "page.page_token", reason: "the page token was issued for other filters or another order")
        ) {
            _ = try desk.state.list(.init(filter: .init(statuses: [.closed]), page: .init(pageSize: 2, pageToken: token)), nowMs: desk.now)
        }
        #expect(
            throws: FeedbackError.invalid(field: "page.page_token", reason: "the page token was issued for other filters or another order")
        ) {
            _ = try desk.state.list(.init(filter: .init(statuses: [.new]), sort: .oldest, page: .init(pageToken: token)), nowMs: desk.now)
        }
        #expect(throws: FeedbackError.invalid(field: "page.page_token", reason: "malformed page token")) {
            _ = try desk.state.list(.init(page: .init(pageToken: "garbage")), nowMs: desk.now)
        }
        #expect(throws: FeedbackError.invalid(field: "page.page_size", reason: "must be at most 1000, not 1001")) {
            _ = try desk.state.list(.init(page: .init(pageSize: 1001)), nowMs: desk.now)
        }
        // Items in lists carry no history or comments.
        #expect(first.items.allSatisfy { $0.history.isEmpty && $0.comments.isEmpty })
    }

    @Test("the ordered index keeps keys sorted and unique through inserts and removals")
    func orderedIndex() {
        var index = OrderedIndex<CreationKey>()
        var reference = Set<CreationKey>()
        var random = Random(state: 3)
        for step in 0..<20_000 {
            let key = CreationKey(createdAtMs: Int64(random.next(3_000)), sequence: UInt32(random.next(4)))
            if step % 3 == 2 {
                #expect(index.remove(key) == (reference.remove(key) != nil))
            } else {
                #expect(index.insert(key) == reference.insert(key).inserted)
            }
        }
        let sorted = reference.sorted()
        #expect(index.keys == sorted)
        #expect(index.count == sorted.count)
        let probe = CreationKey(createdAtMs: 1_500, sequence: 2)
        #expect(index.rank(of: probe) == sorted.filter { $0 < probe }.count)
        var walker = index.walk(from: probe, ascending: false)
        var descending: [CreationKey] = []
        while let key = walker.next() { descending.append(key) }
        #expect(descending == sorted.filter { $0 < probe }.reversed())
    }
}
