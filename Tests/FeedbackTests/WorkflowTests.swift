import FeedbackCore
import RetainProto
import RetainWire
import Testing

@Suite("status workflow")
struct WorkflowTests {
    static let statuses: [Retain_V1_FeedbackStatus] = [.new, .triaged, .assigned, .inProgress, .resolved, .closed, .reopened]

    /// An item brought to `status` through the workflow.
    static func item(in status: Retain_V1_FeedbackStatus, desk: inout FeedbackDesk) throws -> String {
        let id = try desk.submit().itemId
        switch status {
        case .triaged: try desk.triage(id)
        case .assigned: try desk.assign(id)
        case .inProgress:
            try desk.assign(id)
            try desk.start(id)
        case .resolved: try desk.resolve(id)
        case .closed: try desk.close(id, note: "spam")
        case .reopened:
            try desk.resolve(id)
            try desk.reopen(id)
        default: break
        }
        #expect(desk.state.items.last.map { Int32($0.status) } == status.rawValue)
        return id
    }

    /// Runs `action` on item `id`.
    static func perform(_ action: FeedbackAction, on id: String, desk: inout FeedbackDesk) throws -> Retain_V1_FeedbackItem {
        switch action {
        case .triage: try desk.triage(id)
        case .assign: try desk.assign(id)
        case .start: try desk.start(id)
        case .resolve: try desk.resolve(id)
        case .close: try desk.close(id, note: "why")
        case .reopen: try desk.reopen(id)
        }
    }

    @Test("the transition table allows exactly the documented moves", arguments: FeedbackAction.allCases)
    func table(action: FeedbackAction) throws {
        let legal: [FeedbackAction: Set<Int32>] = [
            .triage: [1, 2, 7], .assign: [1, 2, 3, 4, 7], .start: [3], .resolve: [1, 2, 3, 4, 7],
            .close: [1, 2, 3, 4, 5, 7], .reopen: [5, 6],
        ]
        for status in Self.statuses {
            if legal[action]!.contains(status.rawValue) {
                #expect(try FeedbackWorkflow.transition(action, from: status) == FeedbackWorkflow.target(of: action))
            } else {
                #expect(
                    throws: FeedbackError.illegalTransition(action: action, status: status, allowed: FeedbackWorkflow.sources(of: action))
                ) {
                    try FeedbackWorkflow.transition(action, from: status)
                }
            }
        }
    }

    @Test(
        "every legal transition moves the item and records who, when and why; every illegal one is FAILED_PRECONDITION",
        arguments: FeedbackAction.allCases)
    func everyTransition(action: FeedbackAction) throws {
        for status in Self.statuses {
            var desk = FeedbackDesk()
            let id = try Self.item(in: status, desk: &desk)
            let before = try desk.state.item(id, nowMs: desk.now)
            desk.now += 1_000
            if FeedbackWorkflow.sources(of: action).contains(status) {
                let after = try Self.perform(action, on: id, desk: &desk)
                #expect(after.status == FeedbackWorkflow.target(of: action), "\(action) from \(status.shortName)")
                let change = try #require(after.history.last)
                #expect(change.fromStatus == status)
                #expect(change.toStatus == after.status)
                #expect(!change.actor.isEmpty)
                #expect(change.atMs == desk.now)
                #expect(!change.note.isEmpty)
                #expect(after.history.count == before.history.count + 1)
                #expect(after.updatedAtMs == desk.now)
            } else {
                let error = #expect(throws: RPCError.self, "\(action) from \(status.shortName)") {
                    _ = try Self.perform(action, on: id, desk: &desk)
                }
                #expect(error?.code == .failedPrecondition)
                #expect(try desk.state.item(id, nowMs: desk.now) == before, "a refused change leaves the item alone")
            }
        }
    }

    @Test("closing needs a note unless the item is resolved; reopening always needs one")
    func notes() throws {
        var desk = FeedbackDesk()
        let open = try desk.submit().itemId
        #expect(throws: RPCError.invalidArgument(field: "note", "is required to close an item that is not resolved (NEW)")) {
            try desk.close(open, note: "")
        }
        let resolved = try desk.submit().itemId
        try desk.resolve(resolved)
        #expect(try desk.close(resolved, note: "").status == .closed)
        #expect(throws: RPCError.self) { try desk.reopen(resolved, note: "") }
    }

    @Test("assignment sets the assignee and may move the team; the history keeps both")
    func assignment() throws {
        var desk = FeedbackDesk()
        let id = try desk.submit(category: "payment").itemId
        let first = try desk.assign(id, to: "alice")
        #expect(first.assignee == "alice")
        #expect(first.team == "billing")
        let second = try desk.assign(id, to: "bob", team: "escalations")
        #expect(second.assignee == "bob")
        #expect(second.team == "escalations")
        #expect(second.history.map(\.assignee) == ["", "alice", "bob"])
        #expect(second.history.map(\.team) == ["billing", "billing", "escalations"])
    }

    @Test("a retried transition returns the first answer even after the item moved on; another body is ALREADY_EXISTS")
    func idempotentTransitions() throws {
        var desk = FeedbackDesk()
        let id = try desk.submit().itemId
        let first = try desk.triage(id, urgent: true, requestID: "tri-1")
        try desk.assign(id)
        try desk.resolve(id)
        let retry = Retain_V1_TriageFeedbackRequest(itemId: id, actor: "lead", note: "checked", requestId: "tri-1", urgent: true)
        let (again, replayed) = try desk.replaying(desk.state.decideTriage(retry, nowMs: desk.now, configuration: desk.configuration), id)
        #expect(replayed)
        #expect(again == first)
        #expect(again.status == .triaged)
        var other = retry
        other.urgent = false
        #expect(throws: FeedbackError.duplicate("request_id 'tri-1' was used for another change of this item")) {
            try desk.state.decideTriage(other, nowMs: desk.now, configuration: desk.configuration)
        }
        // The same key on another rpc is another body too.
        let error2 = #expect(throws: RPCError.self) { try desk.close(id, requestID: "tri-1") }
        #expect(error2?.code == .alreadyExists)
    }

    @Test("comments are kept in order on any status and retries do not duplicate them")
    func comments() throws {
        var desk = FeedbackDesk()
        let id = try desk.submit().itemId
        let (first, _) = try desk.comment(id, text: "hello", requestID: "c-1")
        try desk.close(id, note: "duplicate")
        let (second, _) = try desk.comment(id, text: "after close")
        let (retry, replayed) = try desk.comment(id, text: "hello", requestID: "c-1")
        #expect(replayed)
        #expect(retry == first)
        let item = try desk.state.item(id, nowMs: desk.now)
        #expect(item.comments.map(\.text) == ["hello", "after close"])
        #expect(item.comments.map(\.commentId) == [first.commentId, second.commentId])
        #expect(first.commentId != second.commentId)
    }

    @Test("a question needs an answer to be resolved")
    func questionNeedsAnswer() throws {
        var desk = FeedbackDesk()
        let id = try desk.submit(kind: .question, text: "How?").itemId
        #expect(throws: RPCError.invalidArgument(field: "answer", "is required to resolve a question")) {
            try desk.resolve(id, outcome: .answered, answer: "")
        }
    }
}
