import RetainState
package import RetainProto

/// An item rebuilt from its submission and changes.
package struct FoldedItem: Sendable {
    /// The item as the wire shows it.
    package var item: Retain_V1_FeedbackItem
    /// Its sequence number.
    package var sequence: UInt32
    /// When its SLA clock started: submission, or the last reopening.
    package var slaStartMs: Int64
    /// How many times it was resolved.
    package var resolutionCount: Int
    /// How many comments it has.
    package var commentCount: Int
}

extension FeedbackState {
    /// Rebuilds item `sequence` by folding its first `count` changes (all when nil) over its
    /// submission. With `history`, the history and comments are filled in; `overdue` is set as
    /// of `asOfMs` (or left false when nil).
    ///
    /// The single place that turns changes into item values: apply derives the indexed values
    /// from it, and a retried request's first answer is the fold up to its change.
    package func fold(_ sequence: UInt32, upTo count: Int? = nil, history: Bool, asOfMs: Int64? = nil) -> FoldedItem {
        let stored = items[Int(sequence)]
        let detail = details[sequence]
        let urgent = stored.flags & 4 != 0
        let important = stored.flags & 8 != 0
        var item = Retain_V1_FeedbackItem(
            itemId: stored.key.description, userId: users[stored.user], kind: .init(rawValue: Int32(stored.kind)),
            category: categories[stored.baseCategory], text: texts[Int(sequence)], channel: channels[stored.channel],
            reference: detail?.reference, status: .new, priority: PriorityRules.priority(urgent: urgent, important: important),
            urgent: urgent, important: important, team: teams[stored.baseTeam], createdAtMs: stored.createdAtMs,
            updatedAtMs: stored.createdAtMs, dueAtMs: stored.baseDueAtMs, properties: detail?.properties ?? [:],
            priorityReasons: detail?.priorityReasons ?? [])
        if history {
            item.history.append(
                Retain_V1_FeedbackStatusChange(
                    fromStatus: .unspecified, toStatus: .new, actor: item.userId, atMs: stored.createdAtMs, note: "submitted",
                    priority: item.priority, team: item.team, requestId: requestIDs[Int(sequence)]))
            item.timeline.append(
                Retain_V1_FeedbackTimelineEntry(atMs: stored.createdAtMs, kind: .submitted, status: .new, text: item.text))
        }
        var folded = FoldedItem(item: item, sequence: sequence, slaStartMs: stored.createdAtMs, resolutionCount: 0, commentCount: 0)
        let changes = detail?.changes ?? []
        for change in changes.prefix(count ?? changes.count) {
            Self.fold(change, into: &folded, history: history)
        }
        if let asOfMs {
            folded.item.overdue = StoredItem.isOpen(status: UInt8(folded.item.status.rawValue)) && asOfMs > folded.item.dueAtMs
        }
        return folded
    }

    private static func fold(_ change: ItemChange, into folded: inout FoldedItem, history: Bool) {
        let from = folded.item.status
        func record(_ actor: String, _ note: String, _ requestID: String, _ atMs: Int64, answer: String? = nil) {
            folded.item.updatedAtMs = atMs
            guard history else { return }
            folded.item.history.append(
                Retain_V1_FeedbackStatusChange(
                    fromStatus: from, toStatus: folded.item.status, actor: actor, atMs: atMs, note: note,
                    priority: folded.item.priority, team: folded.item.team, assignee: folded.item.assignee, requestId: requestID))
            // The timeline shows what the user sees: a resolution with its answer, any other
            // change of status; never the note, the actor or a reassignment within a status.
            if let answer {
                folded.item.timeline.append(
                    Retain_V1_FeedbackTimelineEntry(atMs: atMs, kind: .resolved, status: folded.item.status, text: answer))
            } else if folded.item.status != from {
                folded.item.timeline.append(
                    Retain_V1_FeedbackTimelineEntry(atMs: atMs, kind: .statusChanged, status: folded.item.status))
            }
        }
        switch change {
        case .triaged(let triaged):
            let request = triaged.request ?? .init()
            folded.item.status = .triaged
            folded.item.urgent = request.urgent
            folded.item.important = request.important
            folded.item.priority = PriorityRules.priority(urgent: request.urgent, important: request.important)
            folded.item.priorityReasons = ["triage by \(request.actor)"]
            folded.item.category = triaged.category
            folded.item.team = triaged.team
            folded.item.dueAtMs = triaged.dueAtMs
            record(request.actor, request.note, request.requestId, triaged.atMs)
        case .assigned(let assigned):
            let request = assigned.request ?? .init()
            folded.item.status = .assigned
            folded.item.assignee = request.assignee
            if !request.team.isEmpty { folded.item.team = request.team }
            record(request.actor, request.note, request.requestId, assigned.atMs)
        case .started(let started):
            let request = started.request ?? .init()
            folded.item.status = .inProgress
            record(request.actor, request.note, request.requestId, started.atMs)
        case .resolved(let resolved):
            let request = resolved.request ?? .init()
            folded.item.status = .resolved
            folded.item.resolution = Retain_V1_FeedbackResolution(
                outcome: request.outcome, answer: request.answer, actor: request.actor, resolvedAtMs: resolved.atMs)
            if folded.item.compensation == nil, let amount = request.compensation {
                folded.item.compensation = Retain_V1_FeedbackCompensation(
                    amount: amount, state: .owed, transferId: FeedbackState.transferID(of: folded.item.itemId))
            }
            folded.resolutionCount += 1
            record(request.actor, request.note, request.requestId, resolved.atMs, answer: request.answer)
        case .closed(let closed):
            let request = closed.request ?? .init()
            folded.item.status = .closed
            folded.item.closedAtMs = closed.atMs
            record(request.actor, request.note, request.requestId, closed.atMs)
        case .reopened(let reopened):
            let request = reopened.request ?? .init()
            folded.item.status = .reopened
            folded.item.closedAtMs = 0
            folded.item.reopenCount += 1
            folded.item.dueAtMs = reopened.dueAtMs
            folded.slaStartMs = reopened.atMs
            record(request.actor, request.note, request.requestId, reopened.atMs)
        case .commented(let commented):
            let request = commented.request ?? .init()
            folded.commentCount += 1
            folded.item.updatedAtMs = commented.atMs
            if history {
                folded.item.comments.append(
                    Retain_V1_FeedbackComment(
                        commentId: commented.commentId, author: request.author, text: request.text,
                        staffOnly: request.staffOnly, createdAtMs: commented.atMs))
                if !request.staffOnly {
                    folded.item.timeline.append(
                        Retain_V1_FeedbackTimelineEntry(
                            atMs: commented.atMs, kind: request.author == folded.item.userId ? .userMessage : .reply,
                            status: folded.item.status, text: request.text))
                }
            }
        case .compensationPaid(let marked):
            let request = marked.request ?? .init()
            folded.item.compensation?.state = .paid
            folded.item.compensation?.paidAtMs = marked.atMs
            record(request.actor, "compensation paid by ledger transfer \(request.transferId)", request.transferId, marked.atMs)
            if history, let amount = folded.item.compensation?.amount {
                folded.item.timeline.append(
                    Retain_V1_FeedbackTimelineEntry(
                        atMs: marked.atMs, kind: .compensationPaid, status: folded.item.status,
                        text: "compensation paid: \(amount.value) \(amount.asset)"))
            }
        }
    }

    /// The fixed ledger transfer id that pays the compensation of item `itemID`.
    public static func transferID(of itemID: String) -> String { "feedback:\(itemID):compensation" }

    /// An item as its user sees it: public comments (support's signed "support") and the
    /// timeline; no history, notes, assignee, team, priority reasons or resolver.
    package static func userView(_ full: Retain_V1_FeedbackItem) -> Retain_V1_FeedbackItem {
        var item = full
        item.history = []
        item.comments = full.comments.filter { !$0.staffOnly }.map { comment in
            var shown = comment
            if comment.author != full.userId { shown.author = "support" }
            return shown
        }
        item.assignee = ""
        item.team = ""
        item.priorityReasons = []
        item.resolution?.actor = ""
        return item
    }

    /// Item `sequence` as answers show it: with history and comments when `full`.
    package func answer(_ sequence: UInt32, full: Bool, asOfMs: Int64) -> Retain_V1_FeedbackItem {
        fold(sequence, history: full, asOfMs: asOfMs).item
    }
}
