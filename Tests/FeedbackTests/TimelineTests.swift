import FeedbackCore
import FeedbackService
import RetainProto
import RetainWire
import Testing

/// Replies to the user and the status timeline they see: public replies and status steps in
/// order, internal notes never.
@Suite("replies and the user's timeline")
struct TimelineTests {
    @Test(
        "GetFeedback's timeline: submission, status steps, support's replies, the user's messages, the answer, the compensation; no notes")
    func timeline() throws {
        var desk = FeedbackDesk()
        let id = try desk.submit(user: "u1", kind: .complaint, text: "Charged but no order").itemId
        desk.now += FeedbackDesk.minute
        try desk.triage(id, note: "INTERNAL: looks like a duplicate charge")
        try desk.assign(id, to: "agent1")
        try desk.assign(id, to: "agent2")
        try desk.comment(id, text: "INTERNAL: check the payment provider", author: "agent2", staffOnly: true)
        desk.now += FeedbackDesk.minute
        try desk.comment(id, text: "Sorry! We are checking your payment.", author: "agent2")
        try desk.comment(id, text: "Thanks, it was order 17", author: "u1")
        try desk.start(id)
        desk.now += FeedbackDesk.minute
        try desk.resolve(id, answer: "Refunded the duplicate charge", compensation: .init(value: 50, asset: "points"))
        try desk.markPaid(id)
        let item = try desk.state.item(id, nowMs: desk.now)
        #expect(
            item.timeline.map(\.kind) == [
                .submitted, .statusChanged, .statusChanged, .reply, .userMessage, .statusChanged, .resolved, .compensationPaid,
            ])
        #expect(item.timeline.map(\.status) == [.new, .triaged, .assigned, .assigned, .assigned, .inProgress, .resolved, .resolved])
        #expect(item.timeline[0].text == "Charged but no order")
        #expect(item.timeline[3].text == "Sorry! We are checking your payment.")
        #expect(item.timeline[6].text == "Refunded the duplicate charge")
        #expect(item.timeline[7].text == "compensation paid: 50 points")
        #expect(!item.timeline.contains { $0.text.contains("INTERNAL") }, "notes never reach the timeline")
        #expect(item.comments.count == 3 && item.history.count == 7, "staff still see everything")
    }

    @Test("the user's read shows public replies and the timeline only; another user's item is NOT_FOUND")
    func userView() throws {
        var desk = FeedbackDesk()
        let id = try desk.submit(user: "u1", kind: .complaint, text: "Late delivery").itemId
        try desk.assign(id, to: "agent7")
        try desk.comment(id, text: "INTERNAL: courier lost it", author: "agent7", staffOnly: true)
        try desk.comment(id, text: "Your parcel is on its way again", author: "agent7")
        try desk.resolve(id, answer: "Delivered")
        let mine = try desk.state.item(id, forUser: "u1", nowMs: desk.now)
        #expect(mine.comments.map(\.text) == ["Your parcel is on its way again"])
        #expect(mine.comments.map(\.author) == ["support"], "agents' ids stay internal")
        #expect(mine.history.isEmpty && mine.assignee.isEmpty && mine.team.isEmpty && mine.priorityReasons.isEmpty)
        #expect(mine.resolution?.answer == "Delivered" && mine.resolution?.actor == "")
        #expect(mine.timeline.map(\.kind) == [.submitted, .statusChanged, .reply, .resolved])
        #expect("\(mine)".contains("INTERNAL") == false && "\(mine)".contains("agent7") == false)
        let other = try #require(throws: FeedbackError.self) { try desk.state.item(id, forUser: "u2", nowMs: desk.now) }
        #expect(other.status.code == .notFound)
    }
}
