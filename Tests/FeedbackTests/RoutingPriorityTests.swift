import FeedbackCore
import FeedbackService
import Foundation
import RetainProto
import Testing

@Suite("routing, priority and SLA")
struct RoutingPriorityTests {
    @Test("categories with a rule go to its team, every other category to the default team")
    func routing() throws {
        var desk = FeedbackDesk()
        #expect(try desk.submit(category: "payment").team == "billing")
        #expect(try desk.submit(category: "delivery").team == "logistics")
        #expect(try desk.submit(category: "login").team == "accounts")
        #expect(try desk.submit(category: "gardening").team == "support")
        let general = try desk.submit(category: "")
        #expect(general.category == "general")
        #expect(general.team == "support")
    }

    @Test("routing follows the configuration given, default team included")
    func customRouting() throws {
        var desk = FeedbackDesk()
        desk.configuration = try FeedbackConfiguration.decode(
            Data(
                """
                {"routing": {"default_team": "helpdesk", "rules": [{"category": "payment", "team": "money"}]}}
                """.utf8))
        #expect(try desk.submit(category: "payment").team == "money")
        #expect(try desk.submit(category: "delivery").team == "helpdesk")
    }

    @Test("triage re-routes by the new category unless it names a team")
    func triageRouting() throws {
        var desk = FeedbackDesk()
        let item = try desk.submit(category: "general")
        let moved = try desk.triage(item.itemId, category: "refund")
        #expect(moved.category == "refund")
        #expect(moved.team == "billing")
        let named = try desk.triage(item.itemId, category: "delivery", team: "vip-desk")
        #expect(named.team == "vip-desk")
        #expect(named.category == "delivery")
    }

    @Test("priority is urgent+important, then important, then urgent, then neither")
    func priorityOrder() {
        #expect(PriorityRules.priority(urgent: true, important: true) == .urgentImportant)
        #expect(PriorityRules.priority(urgent: false, important: true) == .important)
        #expect(PriorityRules.priority(urgent: true, important: false) == .urgent)
        #expect(PriorityRules.priority(urgent: false, important: false) == .routine)
        #expect(PriorityRules.order.map(\.rawValue) == [1, 2, 3, 4])
    }

    @Test("the due time is the submission time plus the SLA of the priority")
    func dueTimes() throws {
        var desk = FeedbackDesk()
        let sla = desk.configuration.slaMinutes
        let cases: [(Bool, Bool, Int64)] = [
            (true, true, sla.urgentImportant), (false, true, sla.important),
            (true, false, sla.urgent), (false, false, sla.routine),
        ]
        for (index, (urgent, important, minutes)) in cases.enumerated() {
            // One user each: a repeat complaint would be important by the priority rules.
            let item = try desk.submit(user: "due-\(index)", urgent: urgent, important: important)
            #expect(item.priority == PriorityRules.priority(urgent: urgent, important: important))
            #expect(item.dueAtMs == desk.now + minutes * FeedbackDesk.minute)
        }
        let backfilled = try desk.submit(user: "due-backfilled", at: desk.now - FeedbackDesk.day)
        #expect(backfilled.createdAtMs == desk.now - FeedbackDesk.day)
        #expect(backfilled.dueAtMs == backfilled.createdAtMs + sla.routine * FeedbackDesk.minute)
    }

    @Test("triage recomputes the due time from the SLA start; reopening restarts the clock")
    func dueAfterTriageAndReopen() throws {
        var desk = FeedbackDesk()
        let item = try desk.submit()
        let created = item.createdAtMs
        desk.now += FeedbackDesk.hour
        let triaged = try desk.triage(item.itemId, urgent: true, important: true)
        #expect(triaged.priority == .urgentImportant)
        #expect(triaged.dueAtMs == created + 240 * FeedbackDesk.minute)
        try desk.resolve(item.itemId)
        desk.now += FeedbackDesk.day
        let reopened = try desk.reopen(item.itemId)
        #expect(reopened.dueAtMs == desk.now + 240 * FeedbackDesk.minute)
        #expect(reopened.reopenCount == 1)
    }

    @Test("an item is overdue only strictly after its due time, and never once resolved or closed")
    func slaEdges() throws {
        var desk = FeedbackDesk()
        let item = try desk.submit(urgent: true, important: true)
        let due = item.dueAtMs
        desk.now = due
        #expect(try desk.state.item(item.itemId, nowMs: due).overdue == false)
        #expect(try desk.state.item(item.itemId, nowMs: due + 1).overdue == true)
        #expect(try desk.state.listOverdue(.init(asOfMs: due), nowMs: due).items.isEmpty)
        #expect(try desk.state.listOverdue(.init(asOfMs: due + 1), nowMs: due).items.map(\.itemId) == [item.itemId])
        #expect(try desk.listAll(Retain_V1_FeedbackFilter(overdueOnly: true)).ids.isEmpty)
        desk.now = due + 1
        #expect(try desk.listAll(Retain_V1_FeedbackFilter(overdueOnly: true)).ids == [item.itemId])
        desk.now = due + FeedbackDesk.day
        try desk.resolve(item.itemId)
        #expect(try desk.state.item(item.itemId, nowMs: desk.now).overdue == false)
        #expect(try desk.state.listOverdue(.init(), nowMs: desk.now).items.isEmpty)
    }

    @Test("a resolution at the due time meets the SLA; one millisecond later breaches it")
    func breachEdges() throws {
        var desk = FeedbackDesk()
        let start = desk.now
        let onTime = try desk.submit(urgent: true, important: true)
        let late = try desk.submit(urgent: true, important: true)
        desk.now = onTime.dueAtMs
        try desk.resolve(onTime.itemId)
        desk.now = late.dueAtMs + 1
        try desk.resolve(late.itemId)
        let stats = desk.state.stats(.init(range: .init(startMs: start, endMs: desk.now + 1)), nowMs: desk.now)
        #expect(stats.resolvedCount == 2)
        #expect(stats.breachedCount == 1)
        #expect(stats.slaBreachRate == 0.5)
        #expect(stats.meanTimeToResolveMs == (240 * FeedbackDesk.minute * 2 + 1) / 2)
    }

    @Test("the shipped configuration file is the built-in one, and bad entries are named")
    func configurationFile() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Services/Feedback/Config/feedback.json").path
        #expect(try FeedbackConfiguration.load(path: path) == .standard)
        #expect(try FeedbackConfiguration.decode(Data("{}".utf8)) == FeedbackConfiguration())
        func problem(_ json: String) -> String {
            do {
                _ = try FeedbackConfiguration.decode(Data(json.utf8))
                return ""
            } catch {
                return error.description
            }
        }
        #expect(
            problem(#"{"routing": {"rules": [{"category": "a", "team": "t"}, {"category": "B", "team": "t"}]}}"#)
                .hasPrefix("routing.rules[1].category"))
        #expect(
            problem(#"{"routing": {"rules": [{"category": "a", "team": "t"}, {"category": "a", "team": "u"}]}}"#)
                .contains("has a rule already"))
        #expect(problem(#"{"routing": {"rules": [{"category": "a"}]}}"#).hasPrefix("routing.rules[0].team"))
        #expect(problem(#"{"sla_minutes": {"urgent": 0}}"#).hasPrefix("sla_minutes.urgent"))
        #expect(problem(#"{"faq": {"similarity_threshold": 0.2}}"#).hasPrefix("faq.similarity_threshold"))
        #expect(problem(#"{"routing": {"default_team": "no spaces"}}"#).hasPrefix("routing.default_team"))
        #expect(problem("[1, 2]") != "")
        #expect(problem(#"{"sla_minutes": {"routnie": 60}}"#).hasPrefix("sla_minutes.routnie: unknown key"))
        #expect(
            problem(#"{"routing": {"rules": [{"category": "a", "team": "t", "teem": "u"}]}}"#)
                .hasPrefix("routing.rules[0].teem: unknown key"))
    }
}
