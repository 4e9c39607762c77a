import FeedbackCore
import FeedbackService
import RetainProto
import RetainWire
import Testing

@Suite("submission, compensation and user history")
struct SubmissionTests {
    @Test("a submission is answered with a well-formed id, team, priority, due time and a first history entry")
    func submission() throws {
        var desk = FeedbackDesk()
        let item = try desk.submit(
            Retain_V1_SubmitFeedbackRequest(
                userId: "u1", requestId: "r1", kind: .bug, category: "app", text: "Crash on start", channel: "web",
                reference: .init(refKind: "page", refId: "https://example.com/x"), urgent: true, properties: ["version": "4.2"]))
        #expect(ItemKey(item.itemId)?.description == item.itemId)
        #expect(item.itemId.hasPrefix("fb_") && item.itemId.count == 29)
        #expect(item.status == .new)
        #expect(item.team == "engineering")
        #expect(item.priority == .urgent)
        #expect(item.reference?.refId == "https://example.com/x")
        #expect(item.properties == ["version": "4.2"])
        #expect(item.history.map(\.toStatus) == [.new])
        #expect(item.history.first?.actor == "u1")
    }

    @Test("a retried submission returns the first item; the same request id with another body is ALREADY_EXISTS")
    func idempotentSubmission() throws {
        var desk = FeedbackDesk()
        let request = Retain_V1_SubmitFeedbackRequest(userId: "u1", requestId: "r1", kind: .complaint, text: "Late", channel: "app")
        let (first, replayedFirst) = try desk.submitReplaying(request)
        desk.now += 10_000
        try desk.triage(first.itemId)
        let (second, replayed) = try desk.submitReplaying(request)
        #expect(!replayedFirst)
        #expect(replayed)
        #expect(second == first)
        #expect(desk.state.itemCount == 1)
        var changed = request
        changed.text = "Very late"
        let error = #expect(throws: RPCError.self) { try desk.submitReplaying(changed) }
        #expect(error?.code == .alreadyExists)
        // The same request id of another user is another submission.
        var other = request
        other.userId = "u2"
        #expect(try desk.submitReplaying(other).1 == false)
        #expect(desk.state.itemCount == 2)
    }

    @Test("item ids are unique and generated from the log entry, so replaying the log gives the same ids")
    func deterministicIDs() throws {
        var desk = FeedbackDesk()
        var entries: [Retain_V1_FeedbackLogEntry] = []
        for index in 0..<200 {
            let request = try FeedbackValidation.submission(
                Retain_V1_SubmitFeedbackRequest(userId: "u\(index % 3)", requestId: "same", kind: .bug, text: "x"), nowMs: desk.now)
            guard case .log(let entry) = try desk.state.decideSubmission(request, nowMs: desk.now, configuration: desk.configuration) else {
                continue
            }
            try desk.state.apply(entry)
            entries.append(entry)
        }
        let ids = entries.compactMap { $0.submitted?.itemId }
        #expect(ids.count == 3)
        var replica = FeedbackState()
        for entry in entries { try replica.apply(entry) }
        #expect(replica.items.map(\.key.description) == ids)
        #expect(Set((0..<1000).map { ItemKey.generate(timeMs: 1, userID: "u", requestID: "r", sequence: UInt64($0)) }).count == 1000)
    }

    @Test("bad submissions are INVALID_ARGUMENT naming the field")
    func validation() {
        let now: Int64 = 1_700_000_000_000
        let good = Retain_V1_SubmitFeedbackRequest(userId: "u1", requestId: "r1", kind: .bug, text: "x")
        func field(_ change: (inout Retain_V1_SubmitFeedbackRequest) -> Void) -> String? {
            var request = good
            change(&request)
            do {
                _ = try FeedbackValidation.submission(request, nowMs: now)
                return nil
            } catch {
                #expect(error.code == .invalidArgument)
                return error.details["field"]
            }
        }
        #expect(field { _ in } == nil)
        #expect(field { $0.userId = "" } == "user_id")
        #expect(field { $0.userId = "a:b" } == "user_id")
        #expect(field { $0.requestId = "" } == "request_id")
        #expect(field { $0.kind = .unspecified } == "kind")
        #expect(field { $0.kind = .init(rawValue: 9) } == "kind")
        #expect(field { $0.category = "Payment" } == "category")
        #expect(field { $0.text = "" } == "text")
        #expect(field { $0.text = String(repeating: "x", count: 10_001) } == "text")
        #expect(field { $0.channel = "Web App" } == "channel")
        #expect(field { $0.reference = .init(refKind: "order", refId: "") } == "reference.ref_id")
        #expect(field { $0.submittedAtMs = now + 6 * 60_000 } == "submitted_at_ms")
        #expect(field { $0.properties = Dictionary(uniqueKeysWithValues: (0..<21).map { ("k\($0)", "v") }) } == "properties")
    }

    @Test("a compensation is set once, paid exactly once by the item's fixed transfer id, and cannot change")
    func compensation() throws {
        var desk = FeedbackDesk()
        let id = try desk.submit(kind: .complaint).itemId
        let points = Retain_V1_Amount(value: 500, asset: "points")
        let resolved = try desk.resolve(id, compensation: points)
        let compensation = try #require(resolved.compensation)
        #expect(compensation.state == .owed)
        #expect(compensation.transferId == "feedback:\(id):compensation")
        #expect(try desk.listAll(Retain_V1_FeedbackFilter(compensationState: .owed)).ids == [id])

        // Another transfer id is refused; the item's own id pays; again is a replay.
        let wrong = #expect(throws: RPCError.self) { try desk.markPaid(id, transferID: "other-transfer") }
        #expect(wrong?.code == .failedPrecondition)
        desk.now += 1_000
        let (paid, replayedFirst) = try desk.markPaid(id)
        #expect(!replayedFirst)
        #expect(paid.compensation?.state == .paid)
        #expect(paid.compensation?.paidAtMs == desk.now)
        desk.now += 1_000
        let (again, replayed) = try desk.markPaid(id)
        #expect(replayed)
        #expect(again.compensation == paid.compensation)
        #expect(try desk.listAll(Retain_V1_FeedbackFilter(compensationState: .owed)).ids.isEmpty)

        // After a reopening, a different compensation is refused, the same one or none is fine
        // and keeps it paid.
        try desk.reopen(id)
        let changed = #expect(throws: RPCError.self) { try desk.resolve(id, compensation: .init(value: 900, asset: "points")) }
        #expect(changed?.code == .failedPrecondition)
        let second = try desk.resolve(id, compensation: points)
        #expect(second.compensation?.state == .paid)
        #expect(second.compensation?.amount == points)

        let none = try desk.submit().itemId
        try desk.resolve(none)
        let nothing = #expect(throws: RPCError.self) { try desk.markPaid(none) }
        #expect(nothing?.code == .failedPrecondition)
        #expect(throws: RPCError.invalidArgument(field: "compensation.asset", "must be \"points\" or \"coupon.<type>\", not 'credit.cny'"))
        {
            try desk.resolve(none, compensation: .init(value: 5, asset: "credit.cny"))
        }
    }

    @Test("a user's history counts kinds, outcomes, complaints, reopenings and paid compensation, and lists open items by urgency")
    func userHistory() throws {
        var desk = FeedbackDesk()
        let start = desk.now
        let complaint = try desk.submit(user: "ann", kind: .complaint).itemId
        let urgent = try desk.submit(user: "ann", kind: .bug, urgent: true, important: true).itemId
        let question = try desk.submit(user: "ann", kind: .question, text: "How?").itemId
        let routine = try desk.submit(user: "ann", kind: .suggestion).itemId
        try desk.submit(user: "bob", kind: .complaint)
        try desk.resolve(complaint, compensation: .init(value: 3, asset: "coupon.free_shipping"))
        try desk.markPaid(complaint)
        try desk.resolve(question, outcome: .answered, answer: "Like this")
        try desk.reopen(question)
        _ = routine
        let history = desk.state.userHistory(.init(userId: "ann"), nowMs: desk.now)
        #expect(history.totalItems == 4)
        #expect(history.byKind.map(\.total) == [1, 1, 1, 1])
        #expect(history.byKind.map(\.doneCount) == [0, 1, 0, 0])
        #expect(history.byOutcome == [.init(outcome: .fixed, count: 1), .init(outcome: .answered, count: 1)])
        #expect(history.complaintCount == 1)
        #expect(history.complaintShare == 0.25)
        #expect(history.complaintsPerMonth == 1)
        #expect(history.openCount == 3)
        #expect(history.openItems.first?.itemId == urgent)
        #expect(history.reopenedCount == 1)
        #expect(history.compensationPaid == [.init(value: 3, asset: "coupon.free_shipping")])
        #expect(history.firstSubmittedMs == start)
        let nobody = desk.state.userHistory(.init(userId: "nobody"), nowMs: desk.now)
        #expect(nobody.totalItems == 0)
        #expect(nobody.byKind.count == 4)
        let later = desk.state.userHistory(.init(userId: "ann", range: .init(startMs: desk.now + 1)), nowMs: desk.now)
        #expect(later.totalItems == 0)
        #expect(later.openCount == 3)
    }

    @Test("statistics count open items per team and priority, overdue ones, and submissions per kind")
    func stats() throws {
        var desk = FeedbackDesk()
        try desk.submit(user: "s1", category: "payment", urgent: true, important: true)
        // Payment items are important by the built-in priority rules; one user each (no repeats).
        try desk.submit(user: "s2", category: "payment")
        try desk.submit(kind: .question, category: "delivery", at: desk.now - 10 * FeedbackDesk.day)
        let done = try desk.submit(user: "s3", category: "payment").itemId
        desk.now += FeedbackDesk.hour
        try desk.resolve(done)
        let stats = desk.state.stats(.init(), nowMs: desk.now)
        #expect(stats.openTotal == 3)
        #expect(stats.overdueTotal == 1)
        #expect(
            stats.openByTeam.map { "\($0.team)/\($0.priority.rawValue)=\($0.count)/\($0.overdue)" }
                == ["billing/1=1/0", "billing/2=1/0", "logistics/4=1/1"])
        #expect(stats.resolvedCount == 1)
        #expect(stats.meanTimeToResolveMs == FeedbackDesk.hour)
        #expect(stats.medianTimeToResolveMs == FeedbackDesk.hour)
        #expect(stats.submittedByKind.map(\.total) == [0, 3, 0, 1])
        let billing = desk.state.stats(.init(teams: ["billing"]), nowMs: desk.now)
        #expect(billing.openTotal == 2)
        #expect(billing.submittedByKind.map(\.total) == [0, 3, 0, 0])
    }
}
