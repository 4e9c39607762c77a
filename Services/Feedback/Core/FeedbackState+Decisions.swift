import RetainState
public import RetainProto

/// The write decisions: each checks a (well-formed) request against the state, finds retries,
/// and fixes everything the change needs (time, ids, team, due time, FAQ group) in a log entry.
/// They never change the state; ``FeedbackState/apply(_:)`` does, from the entry.
extension FeedbackState {
    // MARK: Submit

    /// Decides a submission. `request.category` must already default to "general".
    public func decideSubmission(
        _ request: Retain_V1_SubmitFeedbackRequest, nowMs: Int64,
        configuration: FeedbackConfiguration
    ) throws(FeedbackError)
        -> FeedbackDecision<Retain_V1_FeedbackItem>
    {
        if let sequence = priorSubmission(user: request.userId, requestID: request.requestId) {
            guard sameSubmission(request, as: sequence) else {
                throw FeedbackError.duplicate(
                    "request_id '\(request.requestId)' of user '\(request.userId)' was used for another submission")
            }
            let stored = items[Int(sequence)]
            return .replay(fold(sequence, upTo: 0, history: true, asOfMs: stored.createdAtMs).item)
        }
        let createdAt = request.submittedAtMs != 0 ? request.submittedAtMs : nowMs
        let policy = configuration.priority
        let earlier =
            policy.repeatComplaints.map {
                complaints(of: request.userId, from: createdAt - Int64($0.withinDays) * 86_400_000, before: createdAt)
            } ?? 0
        let decided = policy.decide(
            PriorityPolicy.Inputs(
                kind: request.kind, category: request.category, text: request.text, urgent: request.urgent,
                important: request.important, privileges: Set(request.privileges), earlierComplaints: earlier))
        let priority = decided.priority
        var attempt: UInt64 = 0
        var key: ItemKey
        repeat {
            key = ItemKey.generate(
                timeMs: createdAt, userID: request.userId, requestID: request.requestId,
                sequence: UInt64(items.count), attempt: attempt)
            attempt += 1
        } while sequences[key] != nil || movedItems[key] != nil  // nor the id of an item that moved away
        return .log(
            Retain_V1_FeedbackLogEntry(
                submitted: Retain_V1_FeedbackSubmitted(
                    itemId: key.description, request: request, createdAtMs: createdAt, loggedAtMs: nowMs,
                    team: configuration.team(for: request.category),
                    dueAtMs: configuration.dueAt(startMs: createdAt, priority: priority),
                    priority: priority, priorityReasons: decided.reasons)))
    }

    /// How many complaints `user` submitted at `from` or later and before `before`.
    package func complaints(of user: String, from: Int64, before: Int64) -> Int {
        guard let symbol = users.symbol(user) else { return 0 }
        var count = 0
        var walker = FeedbackIndexes.list(indexes.byUser, symbol).walk(from: nil, ascending: true)
        while let key = walker.next() {
            let item = items[Int(key.sequence)]
            if item.kind == UInt8(Retain_V1_FeedbackKind.complaint.rawValue), item.createdAtMs >= from, item.createdAtMs < before {
                count += 1
            }
        }
        return count
    }

    /// The item a user submitted with `requestID`, if any.
    package func priorSubmission(user: String, requestID: String) -> UInt32? {
        guard let symbol = users.symbol(user) else { return nil }
        let hash = StableHash.of(requestID)
        guard let candidate = submissions[Self.submissionKey(user: symbol, requestHash: hash)] else { return nil }
        if items[Int(candidate)].user == symbol, requestIDs[Int(candidate)] == requestID { return candidate }
        // Two submissions share the mixed key: read the user's items.
        var walker = FeedbackIndexes.list(indexes.byUser, symbol).walk(from: nil, ascending: true)
        while let key = walker.next() {
            let item = items[Int(key.sequence)]
            if item.requestHash == hash, requestIDs[Int(key.sequence)] == requestID { return key.sequence }
        }
        return nil
    }

    private func sameSubmission(_ request: Retain_V1_SubmitFeedbackRequest, as sequence: UInt32) -> Bool {
        let stored = items[Int(sequence)]
        let detail = details[sequence]
        return UInt8(request.kind.rawValue) == stored.kind && request.category == categories[stored.baseCategory]
            && request.text == texts[Int(sequence)] && request.channel == channels[stored.channel]
            && request.reference == detail?.reference && request.urgent == (stored.flags & StoredItem.submitterUrgent != 0)
            && request.important == (stored.flags & StoredItem.submitterImportant != 0) && request.properties == (detail?.properties ?? [:])
            && (request.submittedAtMs == 0 || request.submittedAtMs == stored.createdAtMs)
    }

    /// The key of ``FeedbackState/submissions``.
    static func submissionKey(user: UInt32, requestHash: UInt64) -> UInt64 {
        StableHash.mix(requestHash ^ (UInt64(user) &* 0x9e37_79b9_7f4a_7c15))
    }

    // MARK: Workflow

    /// The replay of an earlier change with the same request id, when there is one: the item as
    /// that change left it; `.duplicate` when the request id was used for something else.
    private func replay(
        _ sequence: UInt32, requestID: String, same: (ItemChange) -> Bool
    ) throws(FeedbackError)
        -> FeedbackDecision<Retain_V1_FeedbackItem>?
    {
        guard let (index, change) = priorChange(of: sequence, requestID: requestID) else { return nil }
        guard same(change) else {
            throw FeedbackError.duplicate("request_id '\(requestID)' was used for another change of this item")
        }
        return .replay(fold(sequence, upTo: index + 1, history: true, asOfMs: change.atMs).item)
    }

    /// Decides a triage.
    public func decideTriage(
        _ request: Retain_V1_TriageFeedbackRequest, nowMs: Int64,
        configuration: FeedbackConfiguration
    ) throws(FeedbackError) -> FeedbackDecision<Retain_V1_FeedbackItem> {
        let sequence = try sequence(of: request.itemId)
        if let replay = try replay(
            sequence, requestID: request.requestId,
            same: {
                if case .triaged(let prior) = $0 { prior.request == request } else { false }
            })
        {
            return replay
        }
        let current = fold(sequence, history: false)
        _ = try FeedbackWorkflow.transition(.triage, from: current.item.status)
        let category = request.category.isEmpty ? current.item.category : request.category
        let team = request.team.isEmpty ? configuration.team(for: category) : request.team
        let priority = PriorityRules.priority(urgent: request.urgent, important: request.important)
        return .log(
            Retain_V1_FeedbackLogEntry(
                triaged: Retain_V1_FeedbackTriaged(
                    request: request, atMs: nowMs, category: category, team: team,
                    dueAtMs: configuration.dueAt(startMs: current.slaStartMs, priority: priority))))
    }

    /// Decides an assignment.
    public func decideAssignment(
        _ request: Retain_V1_AssignFeedbackRequest, nowMs: Int64
    ) throws(FeedbackError)
        -> FeedbackDecision<Retain_V1_FeedbackItem>
    {
        let sequence = try sequence(of: request.itemId)
        if let replay = try replay(
            sequence, requestID: request.requestId,
            same: {
                if case .assigned(let prior) = $0 { prior.request == request } else { false }
            })
        {
            return replay
        }
        _ = try FeedbackWorkflow.transition(.assign, from: status(of: sequence))
        return .log(Retain_V1_FeedbackLogEntry(assigned: Retain_V1_FeedbackAssigned(request: request, atMs: nowMs)))
    }

    /// Decides the start of work.
    public func decideStart(
        _ request: Retain_V1_StartProgressRequest, nowMs: Int64
    ) throws(FeedbackError)
        -> FeedbackDecision<Retain_V1_FeedbackItem>
    {
        let sequence = try sequence(of: request.itemId)
        if let replay = try replay(
            sequence, requestID: request.requestId,
            same: {
                if case .started(let prior) = $0 { prior.request == request } else { false }
            })
        {
            return replay
        }
        _ = try FeedbackWorkflow.transition(.start, from: status(of: sequence))
        return .log(Retain_V1_FeedbackLogEntry(started: Retain_V1_FeedbackProgressStarted(request: request, atMs: nowMs)))
    }

    /// Decides a resolution, and for a question the FAQ group it joins.
    public func decideResolution(
        _ request: Retain_V1_ResolveFeedbackRequest, nowMs: Int64,
        configuration: FeedbackConfiguration
    ) throws(FeedbackError)
        -> FeedbackDecision<Retain_V1_FeedbackItem>
    {
        let sequence = try sequence(of: request.itemId)
        if let replay = try replay(
            sequence, requestID: request.requestId,
            same: {
                if case .resolved(let prior) = $0 { prior.request == request } else { false }
            })
        {
            return replay
        }
        let current = fold(sequence, history: false)
        _ = try FeedbackWorkflow.transition(.resolve, from: current.item.status)
        let isQuestion = current.item.kind == .question
        if isQuestion, request.answer.isEmpty {
            throw FeedbackError.invalid(field: "answer", reason: "is required to resolve a question")
        }
        if let existing = current.item.compensation?.amount, let requested = request.compensation, existing != requested {
            throw FeedbackError.conflict("the item's compensation is set already (\(existing.value) \(existing.asset)) and cannot change")
        }
        var resolved = Retain_V1_FeedbackResolved(request: request, atMs: nowMs)
        if isQuestion {
            let category = items[Int(sequence)].category
            if let group = faq.group(of: sequence), group.category == category {
                resolved.faqGroupId = group.id
            } else {
                let normalised = FaqText.normalise(current.item.text)
                let tokens = FaqText.tokens(ofNormalised: normalised)
                if let group = faq.match(category: category, tokens: tokens, threshold: configuration.faq.similarityThreshold) {
                    resolved.faqGroupId = group.id
                } else {
                    var attempt = 0
                    var id = FaqText.groupID(category: current.item.category, normalised: normalised)
                    while faq.contains(id: id) {
                        attempt += 1
                        id = FaqText.groupID(category: current.item.category, normalised: normalised, attempt: attempt)
                    }
                    resolved.faqGroupId = id
                    resolved.faqNewGroupText = normalised
                }
            }
        }
        return .log(Retain_V1_FeedbackLogEntry(resolved: resolved))
    }

    /// Decides a closing; the note is required unless the item is resolved.
    public func decideClosing(
        _ request: Retain_V1_CloseFeedbackRequest, nowMs: Int64
    ) throws(FeedbackError)
        -> FeedbackDecision<Retain_V1_FeedbackItem>
    {
        let sequence = try sequence(of: request.itemId)
        if let replay = try replay(
            sequence, requestID: request.requestId,
            same: {
                if case .closed(let prior) = $0 { prior.request == request } else { false }
            })
        {
            return replay
        }
        let status = status(of: sequence)
        _ = try FeedbackWorkflow.transition(.close, from: status)
        if status != .resolved, request.note.isEmpty {
            throw FeedbackError.invalid(field: "note", reason: "is required to close an item that is not resolved (\(status.shortName))")
        }
        return .log(Retain_V1_FeedbackLogEntry(closed: Retain_V1_FeedbackClosed(request: request, atMs: nowMs)))
    }

    /// Decides a reopening: the SLA clock restarts now.
    public func decideReopening(
        _ request: Retain_V1_ReopenFeedbackRequest, nowMs: Int64,
        configuration: FeedbackConfiguration
    ) throws(FeedbackError)
        -> FeedbackDecision<Retain_V1_FeedbackItem>
    {
        let sequence = try sequence(of: request.itemId)
        if let replay = try replay(
            sequence, requestID: request.requestId,
            same: {
                if case .reopened(let prior) = $0 { prior.request == request } else { false }
            })
        {
            return replay
        }
        _ = try FeedbackWorkflow.transition(.reopen, from: status(of: sequence))
        let priority = Retain_V1_FeedbackPriority(rawValue: Int32(items[Int(sequence)].priority))
        return .log(
            Retain_V1_FeedbackLogEntry(
                reopened: Retain_V1_FeedbackReopened(
                    request: request, atMs: nowMs, dueAtMs: configuration.dueAt(startMs: nowMs, priority: priority))))
    }

    /// Decides a comment (any status).
    public func decideComment(
        _ request: Retain_V1_AddCommentRequest, nowMs: Int64
    ) throws(FeedbackError)
        -> FeedbackDecision<Retain_V1_FeedbackComment>
    {
        let sequence = try sequence(of: request.itemId)
        if let (index, change) = priorChange(of: sequence, requestID: request.requestId) {
            guard case .commented(let prior) = change, prior.request == request else {
                throw FeedbackError.duplicate("request_id '\(request.requestId)' was used for another change of this item")
            }
            let folded = fold(sequence, upTo: index + 1, history: true)
            return .replay(folded.item.comments.last ?? Retain_V1_FeedbackComment())
        }
        let number = fold(sequence, history: false).commentCount + 1
        return .log(
            Retain_V1_FeedbackLogEntry(
                commented: Retain_V1_FeedbackCommented(
                    request: request, atMs: nowMs, commentId: "\(request.itemId).c\(number)")))
    }

    /// Decides a payment mark: the transfer id must be the item's; the same mark again replays.
    public func decideCompensationPaid(
        _ request: Retain_V1_MarkCompensationPaidRequest, nowMs: Int64
    ) throws(FeedbackError)
        -> FeedbackDecision<Retain_V1_FeedbackItem>
    {
        let sequence = try sequence(of: request.itemId)
        let current = fold(sequence, history: false)
        guard let compensation = current.item.compensation else {
            throw FeedbackError.conflict("item \(request.itemId) has no compensation to pay")
        }
        guard request.transferId == compensation.transferId else {
            throw FeedbackError.conflict(
                "item \(request.itemId) is paid by transfer '\(compensation.transferId)', not '\(request.transferId)'")
        }
        if compensation.state == .paid {
            let changes = changes(of: sequence)
            let index = changes.firstIndex { if case .compensationPaid = $0 { true } else { false } } ?? changes.count - 1
            return .replay(fold(sequence, upTo: index + 1, history: true, asOfMs: changes[index].atMs).item)
        }
        return .log(Retain_V1_FeedbackLogEntry(compensationPaid: Retain_V1_FeedbackCompensationMarked(request: request, atMs: nowMs)))
    }

    /// The current status of item `sequence`.
    package func status(of sequence: UInt32) -> Retain_V1_FeedbackStatus {
        Retain_V1_FeedbackStatus(rawValue: Int32(items[Int(sequence)].status))
    }

    /// The answer after a logged change: the item `id` now, in full.
    public func item(_ id: String, nowMs: Int64) throws(FeedbackError) -> Retain_V1_FeedbackItem {
        answer(try sequence(of: id), full: true, asOfMs: nowMs)
    }

    /// Item `id` as its user `userID` sees it (see ``userView(_:)``); `.notFound` when it is
    /// not theirs, so that a user cannot learn that another user's item exists.
    public func item(_ id: String, forUser userID: String, nowMs: Int64) throws(FeedbackError) -> Retain_V1_FeedbackItem {
        let full = answer(try sequence(of: id), full: true, asOfMs: nowMs)
        guard full.userId == userID else { throw FeedbackError.notFound(what: "feedback item", id: id) }
        return Self.userView(full)
    }

    /// The comment a logged comment entry added.
    public func comment(of entry: Retain_V1_FeedbackLogEntry) throws(FeedbackError) -> Retain_V1_FeedbackComment {
        guard let commented = entry.commented, let request = commented.request else {
            throw FeedbackError.corrupt("not a comment entry")
        }
        return Retain_V1_FeedbackComment(
            commentId: commented.commentId, author: request.author, text: request.text,
            staffOnly: request.staffOnly, createdAtMs: commented.atMs)
    }
}
