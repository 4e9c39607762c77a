public import RetainMoves
public import RetainProto
public import RetainRuleSets
public import RetainState
public import RetainWebhooks

/// The Feedback service's state: every item, compact, with secondary indexes for listing and
/// statistics and the FAQ groups. Changed only by ``apply(_:)``; see feedback_storage.proto for
/// the log entries and the snapshot layout.
public struct FeedbackState: PersistentState, RuleSetKeeping {
    public typealias LogEntry = Retain_V1_FeedbackLogEntry

    /// Items by sequence number (submission order).
    package var items: [StoredItem] = []
    /// Item id -> sequence number.
    package var sequences: [ItemKey: UInt32] = [:]
    /// The user's text of each item, by sequence number.
    package var texts = TextStore()
    /// The submission's request id of each item, by sequence number.
    package var requestIDs: [String] = []
    /// (user symbol, request id hash) mixed -> the submission, to find retries at once (a
    /// collision falls back to reading the user's items).
    package var submissions: [UInt64: UInt32] = [:]
    /// Reference, properties and changes of the items that have any.
    package var details: [UInt32: ItemDetails] = [:]
    /// Interned names.
    package var users = SymbolTable<UInt32>()
    package var categories = SymbolTable<UInt32>()
    package var teams = SymbolTable<UInt32>()
    package var channels = SymbolTable<UInt32>()
    package var agents = SymbolTable<UInt32>()
    /// Secondary indexes.
    package var indexes = FeedbackIndexes()
    /// FAQ groups.
    package var faq = FaqIndex()
    /// Users moving between shards (RetainMoves): the users fenced here, and which ring versions
    /// this shard's reports are right for. Changed only by `users_moved` log entries.
    public var fences = UserFences()
    /// The items of users dropped here after a move, with their users: calls about them are
    /// refused as moved (``refuseIfItemMoved(_:)``).
    package var movedItems: [ItemKey: String] = [:]
    /// True while a snapshot is restored: FAQ groups come from their own records then.
    private var restoring = false
    /// Webhook subscriptions and the deliveries of status changes (docs/WEBHOOKS.md).
    public internal(set) var webhooks = WebhookOutbox()
    /// The feedback rules' versions (retain.v1.RuleSets, docs/CONFIG.md): every write decides
    /// with the version in force at its clock time.
    public internal(set) var ruleSets = RuleSetHistory<FeedbackConfiguration>()

    public init() {}

    /// The rules a write at the clock time `now` decides with: the version in force, or
    /// `fallback` (the configuration file's rules) before the first version is stored.
    public func rules(now: Int64, fallback: FeedbackConfiguration) -> FeedbackConfiguration {
        ruleSets.rulesForDecision(now: now, fallback: fallback)
    }

    public func ruleSetEntry(_ version: Retain_V1_RuleSetVersion) -> Retain_V1_FeedbackLogEntry {
        Retain_V1_FeedbackLogEntry(ruleSetVersion: version)
    }

    /// Number of items.
    public var itemCount: Int { items.count }

    public mutating func apply(_ entry: Retain_V1_FeedbackLogEntry) throws {
        if let version = entry.ruleSetVersion {
            do {
                try ruleSets.apply(version)
            } catch {
                throw FeedbackError.corrupt(error.description)
            }
        } else if let moved = entry.usersMoved {
            try applyMoves(try UserMoves(moved))
        } else if let submitted = entry.submitted {
            try applySubmission(submitted)
        } else if let change = entry.webhook {
            try webhooks.apply(change)
        } else if let change = ItemChange(entry) {
            try applyChange(change)
        } else {
            throw FeedbackError.corrupt("feedback log entry with no change")
        }
    }

    // MARK: Submissions

    private mutating func applySubmission(_ submitted: Retain_V1_FeedbackSubmitted) throws(FeedbackError) {
        guard let request = submitted.request, let key = ItemKey(submitted.itemId) else {
            throw FeedbackError.corrupt("submission without a request or with a malformed item id '\(submitted.itemId)'")
        }
        guard sequences[key] == nil else { throw FeedbackError.duplicate("item \(submitted.itemId) exists already") }
        guard (1...4).contains(request.kind.rawValue) else { throw FeedbackError.corrupt("submission with kind \(request.kind)") }
        guard items.count < Int(UInt32.max) else { throw FeedbackError.full("too many items") }
        let sequence = UInt32(items.count)
        // The decided priority; entries written before priority rules hold only the request's flags.
        let priority =
            submitted.priority != .unspecified
            ? submitted.priority : PriorityRules.priority(urgent: request.urgent, important: request.important)
        let (urgent, important) = PriorityRules.flags(of: priority)
        let category = categories.intern(request.category)
        let team = teams.intern(submitted.team)
        var flags: UInt8 = 0
        if urgent { flags |= 1 | 4 }
        if important { flags |= 2 | 8 }
        if request.urgent { flags |= StoredItem.submitterUrgent }
        if request.important { flags |= StoredItem.submitterImportant }
        let item = StoredItem(
            key: key, createdAtMs: submitted.createdAtMs, updatedAtMs: submitted.createdAtMs,
            dueAtMs: submitted.dueAtMs, baseDueAtMs: submitted.dueAtMs, requestHash: StableHash.of(request.requestId),
            user: users.intern(request.userId), channel: channels.intern(request.channel),
            baseCategory: category, baseTeam: team, category: category, team: team, assignee: 0, reopenCount: 0,
            kind: UInt8(request.kind.rawValue), status: UInt8(Retain_V1_FeedbackStatus.new.rawValue),
            priority: UInt8(priority.rawValue), compensation: 0, outcome: 0, flags: flags)
        items.append(item)
        texts.append(request.text)
        requestIDs.append(request.requestId)
        let submissionKey = Self.submissionKey(user: item.user, requestHash: item.requestHash)
        if submissions[submissionKey] == nil { submissions[submissionKey] = sequence }
        sequences[key] = sequence
        if request.reference != nil || !request.properties.isEmpty || !submitted.priorityReasons.isEmpty {
            details[sequence] = ItemDetails(
                reference: request.reference, properties: request.properties,
                priorityReasons: submitted.priorityReasons)
        }
        indexes.insert(item, sequence: sequence)
    }

    // MARK: Changes

    /// The sequence number of the item `id`; `.notFound` (`.invalid` when malformed).
    package func sequence(of id: String) throws(FeedbackError) -> UInt32 {
        guard let key = ItemKey(id) else {
            throw FeedbackError.invalid(field: "item_id", reason: "'\(id)' is not an item id (fb_ and 26 base-32 characters)")
        }
        guard let sequence = sequences[key] else { throw FeedbackError.notFound(what: "feedback item", id: id) }
        return sequence
    }

    /// The changes of item `sequence`, oldest first.
    package func changes(of sequence: UInt32) -> [ItemChange] { details[sequence]?.changes ?? [] }

    /// The earlier change of item `sequence` made with `requestID`, and its position.
    package func priorChange(of sequence: UInt32, requestID: String) -> (index: Int, change: ItemChange)? {
        guard let changes = details[sequence]?.changes else { return nil }
        for (index, change) in changes.enumerated() where change.requestID == requestID {
            if case .compensationPaid = change { continue }
            return (index, change)
        }
        return nil
    }

    private mutating func applyChange(_ change: ItemChange) throws(FeedbackError) {
        let sequence = try sequence(of: change.itemID)
        let old = items[Int(sequence)]
        let before = fold(sequence, history: false)
        try check(change, on: before)
        details[sequence, default: ItemDetails()].changes.append(change)
        let after = fold(sequence, history: false)
        var new = old
        let item = after.item
        new.updatedAtMs = item.updatedAtMs
        new.dueAtMs = item.dueAtMs
        new.status = UInt8(item.status.rawValue)
        new.priority = UInt8(item.priority.rawValue)
        new.category = categories.intern(item.category)
        new.team = teams.intern(item.team)
        new.assignee = item.assignee.isEmpty ? 0 : agents.intern(item.assignee)
        new.reopenCount = UInt16(clamping: item.reopenCount)
        new.compensation = UInt8(item.compensation?.state.rawValue ?? 0)
        new.outcome = UInt8(item.resolution?.outcome.rawValue ?? 0)
        new.flags = (old.flags & ~0b11) | (item.urgent ? 1 : 0) | (item.important ? 2 : 0)
        items[Int(sequence)] = new
        indexes.update(from: old, to: new, sequence: sequence)
        if case .resolved(let resolved) = change {
            indexes.resolutions.insert(
                ResolutionFact(
                    resolvedAtMs: resolved.atMs, timeToResolveMs: resolved.atMs - before.slaStartMs, sequence: sequence,
                    team: new.team, ordinal: UInt16(clamping: before.resolutionCount), breached: resolved.atMs > before.item.dueAtMs))
            if !restoring, !resolved.faqGroupId.isEmpty {
                if !faq.contains(id: resolved.faqGroupId) {
                    faq.create(id: resolved.faqGroupId, category: new.category, text: resolved.faqNewGroupText)
                }
                faq.join(id: resolved.faqGroupId, sequence: sequence, resolvedAtMs: resolved.atMs)
            }
        }
        if !restoring { refreshFaqLiveness(sequence) }
        // A snapshot's items are folded again on restore: their events were queued when they
        // happened, and the outbox comes back from its own records.
        if !restoring, old.status != new.status {
            webhooks.enqueue(
                statusChangeWebhook(
                    itemID: change.itemID, index: details[sequence]?.changes.count ?? 0, from: old, to: new, at: change.atMs),
                service: Self.webhookService)
        }
    }

    /// Records in the item's FAQ group (if any) whether it counts now: a resolved or closed
    /// question still in the group's category.
    package mutating func refreshFaqLiveness(_ sequence: UInt32) {
        let item = items[Int(sequence)]
        faq.setLive(CreationKey(createdAtMs: item.createdAtMs, sequence: sequence)) { group in
            !item.isOpen && item.kind == UInt8(Retain_V1_FeedbackKind.question.rawValue) && item.category == group.category
                && item.outcome != 0
        }
    }

    /// Whether `change` may apply to an item now `folded`; the same checks the decisions make,
    /// repeated so that apply never breaks an invariant.
    private func check(_ change: ItemChange, on folded: FoldedItem) throws(FeedbackError) {
        let status = folded.item.status
        switch change {
        case .triaged: _ = try FeedbackWorkflow.transition(.triage, from: status)
        case .assigned: _ = try FeedbackWorkflow.transition(.assign, from: status)
        case .started: _ = try FeedbackWorkflow.transition(.start, from: status)
        case .resolved(let resolved):
            _ = try FeedbackWorkflow.transition(.resolve, from: status)
            if let existing = folded.item.compensation?.amount, let requested = resolved.request?.compensation,
                existing != requested
            {
                throw FeedbackError.conflict("the item's compensation is set already and cannot change")
            }
        case .closed: _ = try FeedbackWorkflow.transition(.close, from: status)
        case .reopened: _ = try FeedbackWorkflow.transition(.reopen, from: status)
        case .commented: break
        case .compensationPaid(let marked):
            guard let compensation = folded.item.compensation else {
                throw FeedbackError.conflict("the item has no compensation")
            }
            guard compensation.state == .owed, marked.request?.transferId == compensation.transferId else {
                throw FeedbackError.conflict("the compensation is paid already or the transfer id differs")
            }
        }
        if case .compensationPaid = change { return }
        if priorChange(of: folded.sequence, requestID: change.requestID) != nil {
            throw FeedbackError.duplicate("request_id '\(change.requestID)' was used before on item \(change.itemID)")
        }
    }

    // MARK: Snapshot support

    /// Applies a whole item record of a snapshot.
    package mutating func restoreItem(_ record: Retain_V1_FeedbackItemRecord) throws {
        guard let submitted = record.submitted else { throw StateRecoveryError("item record without its submission") }
        restoring = true
        defer { restoring = false }
        try applySubmission(submitted)
        for entry in record.changes {
            guard let change = ItemChange(entry) else { throw StateRecoveryError("item \(submitted.itemId): change record with no change") }
            try applyChange(change)
        }
    }
}
