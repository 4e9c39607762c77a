import FeedbackCore
import FeedbackService
import Foundation
import RetainProto
import Testing

/// Priority from configured rules: category, keywords (Chinese included), tier privileges and
/// repeat complaints, with the submitter's flags as one input, each input named as a reason.
@Suite("priority rules")
struct PriorityPolicyTests {
    @Test("money taken wrongly is urgent and important without any flag, in Chinese as in English")
    func keywords() throws {
        var desk = FeedbackDesk()
        let chinese = try desk.submit(user: "a", category: "general", text: "我的卡被重复扣款了，请尽快处理")
        #expect(chinese.priority == .urgentImportant)
        #expect(chinese.priorityReasons == ["keyword '重复扣款': urgent, important"])
        #expect(chinese.dueAtMs == desk.now + desk.configuration.slaMinutes.urgentImportant * FeedbackDesk.minute)
        let english = try desk.submit(user: "b", text: "I was CHARGED TWICE for one order")
        #expect(english.priority == .urgentImportant)
        let crash = try desk.submit(user: "c", kind: .bug, text: "应用一打开就闪退")
        #expect(crash.priority == .urgent && crash.priorityReasons == ["keyword '闪退': urgent"])
        let calm = try desk.submit(user: "d", kind: .suggestion, text: "Please add a dark mode")
        #expect(calm.priority == .routine && calm.priorityReasons.isEmpty)
    }

    @Test("the category rule makes payment items important; the submitter's flags add to the rules")
    func categoryAndFlags() throws {
        var desk = FeedbackDesk()
        let payment = try desk.submit(user: "a", category: "payment", text: "The receipt shows the wrong name")
        #expect(payment.priority == .important && payment.priorityReasons == ["category payment: important"])
        let flagged = try desk.submit(user: "b", category: "payment", text: "Receipt missing", urgent: true)
        #expect(flagged.priority == .urgentImportant)
        #expect(flagged.priorityReasons == ["submitter: urgent", "category payment: important"])
        #expect(flagged.urgent && flagged.important)
    }

    @Test("a tier's priority_support privilege makes the item urgent and important")
    func privilege() throws {
        var desk = FeedbackDesk()
        var request = Retain_V1_SubmitFeedbackRequest(
            userId: "vip", requestId: "r1", kind: .suggestion, text: "Could the app remember my size?", channel: "app")
        request.privileges = ["discount_percent", "priority_support"]
        let item = try desk.submit(request)
        #expect(item.priority == .urgentImportant)
        #expect(item.priorityReasons == ["privilege priority_support: urgent, important"])
    }

    @Test("a complaint from a user who complained in the 30 days before is important; older ones and other kinds do not count")
    func repeatComplaints() throws {
        var desk = FeedbackDesk()
        let start = desk.now
        let first = try desk.submit(user: "r", text: "Parcel late")
        #expect(first.priority == .routine)
        desk.now += 10 * FeedbackDesk.day
        _ = try desk.submit(user: "r", kind: .question, text: "Where is it?")
        let second = try desk.submit(user: "r", text: "Parcel still late")
        #expect(second.priority == .important)
        #expect(second.priorityReasons == ["repeat complaint (1 in the 30 days before): important"])
        desk.now = start + 45 * FeedbackDesk.day
        let later = try desk.submit(user: "r", text: "Parcel late again")
        #expect(later.priority == .routine)
    }

    @Test("with submitter flags not honoured, only the rules decide")
    func flagsOff() throws {
        var desk = FeedbackDesk()
        desk.configuration = try FeedbackConfiguration.decode(
            Data(
                """
                {"priority": {"honour_submitter_flags": false, "rules": [{"keywords": ["refund"], "important": true}]}}
                """.utf8))
        let shouting = try desk.submit(user: "a", text: "Hello", urgent: true, important: true)
        #expect(shouting.priority == .routine && !shouting.urgent)
        #expect(try desk.submit(user: "b", text: "I want a refund").priority == .important)
    }

    @Test("a retry answers the first decision; the log rebuilds the same priority and reasons")
    func retryAndReplay() throws {
        var desk = FeedbackDesk()
        let request = Retain_V1_SubmitFeedbackRequest(
            userId: "x", requestId: "r", kind: .complaint, category: "refund", text: "账号被盗了", channel: "app", urgent: true)
        let first = try desk.submit(request)
        let (again, replayed) = try desk.submitReplaying(request)
        #expect(replayed && again.priority == first.priority && again.priorityReasons == first.priorityReasons)
        var rebuilt = FeedbackState()
        for entry in desk.log { try rebuilt.apply(entry) }
        let item = try rebuilt.item(first.itemId, nowMs: desk.now)
        #expect(item.priority == .urgentImportant && item.priorityReasons == first.priorityReasons)
    }

    @Test("a submission logged before priority rules keeps the priority of its flags")
    func oldEntries() throws {
        var state = FeedbackState()
        let id = ItemKey.generate(timeMs: 1_700_000_000_000, userID: "o", requestID: "r", sequence: 0, attempt: 0).description
        let request = Retain_V1_SubmitFeedbackRequest(
            userId: "o", requestId: "r", kind: .complaint, category: "payment", text: "charged twice", channel: "app", important: true)
        try state.apply(
            Retain_V1_FeedbackLogEntry(
                submitted: Retain_V1_FeedbackSubmitted(
                    itemId: id, request: request, createdAtMs: 1_700_000_000_000,
                    loggedAtMs: 1_700_000_000_000, team: "billing", dueAtMs: 1_700_000_000_000 + 1440 * 60_000)))
        let item = try state.item(id, nowMs: 1_700_000_000_000)
        #expect(item.priority == .important && item.important && !item.urgent && item.priorityReasons.isEmpty)
    }

    @Test("a triage sets the priority as the agent says and names the agent")
    func triage() throws {
        var desk = FeedbackDesk()
        let item = try desk.submit(user: "t", text: "charged twice")
        let triaged = try desk.triage(item.itemId, urgent: false, important: false)
        #expect(triaged.priority == .routine && triaged.priorityReasons.count == 1)
        #expect(triaged.priorityReasons.first?.hasPrefix("triage by ") == true)
    }

    @Test("a rule without a condition or an effect is refused, naming it")
    func validation() throws {
        for (json, message) in [
            (
                #"{"priority": {"rules": [{"urgent": true}]}}"#,
                "priority.rules[0]: a rule needs a condition (category, keywords or privilege)"
            ),
            (
                #"{"priority": {"rules": [{"category": "payment"}]}}"#,
                "priority.rules[0]: a rule must make the item urgent, important or both"
            ),
            (#"{"priority": {"repeat_complaints": {"within_days": 0}}}"#, "priority.repeat_complaints.within_days: 0 must be 1 to 366"),
        ] {
            #expect(throws: ConfigurationError(message)) { _ = try FeedbackConfiguration.decode(Data(json.utf8)) }
        }
        #expect(throws: ConfigurationError.self) {
            _ = try FeedbackConfiguration.decode(Data(#"{"priority": {"rulez": []}}"#.utf8))
        }
    }
}
