import FeedbackCore
import FeedbackService
import RetainProto

/// A feedback state in memory with a clock the test moves, driving the same validation,
/// decisions and apply as the service does, its domain errors mapped to the statuses the service answers.
struct FeedbackDesk {
    var state = FeedbackState()
    var now: Int64 = 1_700_000_000_000
    var configuration = FeedbackConfiguration.standard
    /// Every entry applied, in order.
    var log: [Retain_V1_FeedbackLogEntry] = []
    private var counter = 0

    static let minute: Int64 = 60_000
    static let hour: Int64 = 3_600_000
    static let day: Int64 = 86_400_000

    mutating func nextKey(_ prefix: String) -> String {
        counter += 1
        return "\(prefix)-\(counter)"
    }

    /// Logs a decision's entry or returns its replay.
    private mutating func run<R>(
        _ decision: FeedbackDecision<R>, answer: (FeedbackState, Retain_V1_FeedbackLogEntry) throws -> R
    )
        throws -> (R, Bool)
    {
        switch decision {
        case .replay(let value): return (value, true)
        case .log(let entry):
            try state.apply(entry)
            log.append(entry)
            return (try answer(state, entry), false)
        }
    }

    @discardableResult
    mutating func submit(_ request: Retain_V1_SubmitFeedbackRequest) throws -> Retain_V1_FeedbackItem {
        try submitReplaying(request).0
    }

    mutating func submitReplaying(_ request: Retain_V1_SubmitFeedbackRequest) throws -> (Retain_V1_FeedbackItem, Bool) {
        let request = try FeedbackValidation.submission(request, nowMs: now)
        let now = now
        return try FeedbackError.mapped {
            let decision = try state.decideSubmission(request, nowMs: now, configuration: configuration)
            return try run(decision) { state, entry in try state.item(entry.submitted!.itemId, nowMs: now) }
        }
    }

    @discardableResult
    mutating func submit(
        user: String = "u1", kind: Retain_V1_FeedbackKind = .complaint, category: String = "",
        text: String = "It does not work", urgent: Bool = false, important: Bool = false,
        at: Int64 = 0
    ) throws -> Retain_V1_FeedbackItem {
        try submit(
            Retain_V1_SubmitFeedbackRequest(
                userId: user, requestId: nextKey("s"), kind: kind, category: category, text: text, channel: "app",
                urgent: urgent, important: important, submittedAtMs: at))
    }

    mutating func replaying(_ decision: FeedbackDecision<Retain_V1_FeedbackItem>, _ id: String) throws -> (Retain_V1_FeedbackItem, Bool) {
        let now = now
        return try run(decision) { state, _ in try state.item(id, nowMs: now) }
    }

    @discardableResult
    mutating func triage(
        _ id: String, urgent: Bool = false, important: Bool = false, category: String = "", team: String = "",
        actor: String = "lead", note: String = "checked", requestID: String? = nil
    ) throws -> Retain_V1_FeedbackItem {
        let request = Retain_V1_TriageFeedbackRequest(
            itemId: id, actor: actor, note: note, requestId: requestID ?? nextKey("t"),
            urgent: urgent, important: important, category: category, team: team)
        try FeedbackValidation.triage(request)
        return try FeedbackError.mapped { try replaying(state.decideTriage(request, nowMs: now, configuration: configuration), id).0 }
    }

    @discardableResult
    mutating func assign(
        _ id: String, to assignee: String = "agent1", team: String = "", requestID: String? = nil
    ) throws -> Retain_V1_FeedbackItem {
        let request = Retain_V1_AssignFeedbackRequest(
            itemId: id, actor: "lead", note: "yours", requestId: requestID ?? nextKey("a"),
            assignee: assignee, team: team)
        try FeedbackValidation.assignment(request)
        return try FeedbackError.mapped { try replaying(state.decideAssignment(request, nowMs: now), id).0 }
    }

    @discardableResult
    mutating func start(_ id: String, requestID: String? = nil) throws -> Retain_V1_FeedbackItem {
        let request = Retain_V1_StartProgressRequest(itemId: id, actor: "agent1", note: "on it", requestId: requestID ?? nextKey("p"))
        try FeedbackValidation.start(request)
        return try FeedbackError.mapped { try replaying(state.decideStart(request, nowMs: now), id).0 }
    }

    func resolveRequest(
        _ id: String, outcome: Retain_V1_FeedbackOutcome = .fixed, answer: String = "Fixed it",
        compensation: Retain_V1_Amount? = nil, requestID: String
    ) -> Retain_V1_ResolveFeedbackRequest {
        Retain_V1_ResolveFeedbackRequest(
            itemId: id, actor: "agent1", note: "done", requestId: requestID, outcome: outcome,
            answer: answer, compensation: compensation)
    }

    @discardableResult
    mutating func resolve(
        _ id: String, outcome: Retain_V1_FeedbackOutcome = .fixed, answer: String = "Fixed it",
        compensation: Retain_V1_Amount? = nil, requestID: String? = nil
    ) throws -> Retain_V1_FeedbackItem {
        let request = resolveRequest(id, outcome: outcome, answer: answer, compensation: compensation, requestID: requestID ?? nextKey("r"))
        try FeedbackValidation.resolution(request)
        return try FeedbackError.mapped { try replaying(state.decideResolution(request, nowMs: now, configuration: configuration), id).0 }
    }

    @discardableResult
    mutating func close(_ id: String, note: String = "done", requestID: String? = nil) throws -> Retain_V1_FeedbackItem {
        let request = Retain_V1_CloseFeedbackRequest(itemId: id, actor: "lead", note: note, requestId: requestID ?? nextKey("c"))
        try FeedbackValidation.closing(request)
        return try FeedbackError.mapped { try replaying(state.decideClosing(request, nowMs: now), id).0 }
    }

    @discardableResult
    mutating func reopen(_ id: String, note: String = "still broken", requestID: String? = nil) throws -> Retain_V1_FeedbackItem {
        let request = Retain_V1_ReopenFeedbackRequest(itemId: id, actor: "u1", note: note, requestId: requestID ?? nextKey("o"))
        try FeedbackValidation.reopening(request)
        return try FeedbackError.mapped { try replaying(state.decideReopening(request, nowMs: now, configuration: configuration), id).0 }
    }

    @discardableResult
    mutating func comment(
        _ id: String, text: String = "Any news?", author: String = "u1", staffOnly: Bool = false, requestID: String? = nil
    ) throws -> (Retain_V1_FeedbackComment, Bool) {
        let request = Retain_V1_AddCommentRequest(
            itemId: id, author: author, text: text, staffOnly: staffOnly, requestId: requestID ?? nextKey("m"))
        try FeedbackValidation.comment(request)
        return try FeedbackError.mapped {
            try run(state.decideComment(request, nowMs: now)) { state, entry in try state.comment(of: entry) }
        }
    }

    @discardableResult
    mutating func markPaid(_ id: String, transferID: String? = nil) throws -> (Retain_V1_FeedbackItem, Bool) {
        let request = Retain_V1_MarkCompensationPaidRequest(
            itemId: id, transferId: transferID ?? FeedbackState.transferID(of: id), actor: "gateway")
        try FeedbackValidation.compensationPaid(request)
        return try FeedbackError.mapped { try replaying(state.decideCompensationPaid(request, nowMs: now), id) }
    }

    /// Every item of a filtered listing, following page tokens.
    func listAll(
        _ filter: Retain_V1_FeedbackFilter = .init(), sort: Retain_V1_FeedbackSort = .newest, pageSize: UInt32 = 7
    )
        throws -> (ids: [String], total: UInt64)
    {
        var request = Retain_V1_ListFeedbackRequest(filter: filter, sort: sort, page: .init(pageSize: pageSize))
        var ids: [String] = []
        var total: UInt64 = 0
        while true {
            try FeedbackValidation.list(request)
            let page = try state.list(request, nowMs: now)
            ids += page.items.map(\.itemId)
            total = page.pageInfo?.total ?? 0
            guard let token = page.pageInfo?.nextPageToken, !token.isEmpty else { break }
            request.page?.pageToken = token
            if ids.count > 100_000 { break }
        }
        return (ids, total)
    }
}
