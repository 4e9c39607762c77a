import RetainState
public import RetainProto

extension ProfileState {
    /// A batch of activity events made ready to log: the valid events (times resolved, only
    /// what the state keeps) and where each came from in the request.
    public struct ActivityBatch: Sendable {
        /// The entry to log; nil when no event is valid.
        public var entry: Retain_V1_ProfileLogEntry?
        /// For each logged event, its position in the request.
        var positions: [Int]
        /// Events in the request.
        var count: Int
    }

    /// What a batch of activity events did: one outcome per event and the refusals explained.
    public struct ActivityPlan: Sendable {
        /// One outcome per event, in request order.
        public var outcomes: [Retain_V1_ActivityOutcome]
        /// Why each refused event was refused.
        public var errors: [Retain_V1_ItemError]
        /// Accepted events.
        public var acceptedCount: Int
        /// Duplicate events.
        public var duplicateCount: Int
    }

    /// Prepares a batch: every event that passed validation (`invalid` holds the errors of the
    /// others, by position) goes into one log entry, with `occurred_at_ms` 0 resolved to `now`.
    /// Applying the entry decides each event's fate (unknown user, deleted user, duplicate,
    /// accepted) in one pass over the state, and ``activityPlan(_:events:invalid:refusal:)`` reads it.
    public static func prepareActivities(
        _ events: [Retain_V1_ActivityEvent], invalid: [Int: Retain_V1_ItemError], now: Int64
    ) -> ActivityBatch {
        var kept = events
        var positions: [Int] = []
        if !invalid.isEmpty {
            kept = []
            kept.reserveCapacity(events.count - invalid.count)
            for (position, event) in events.enumerated() where invalid[position] == nil {
                kept.append(event)
                positions.append(position)
            }
        } else {
            positions = Array(0..<events.count)
        }
        for position in kept.indices {
            let event = kept[position]
            if event.occurredAtMs == 0 || (event.value != nil && event.kind != "purchase") {
                kept[position] = Retain_V1_ActivityEvent(
                    userId: event.userId, eventId: event.eventId, kind: event.kind,
                    occurredAtMs: event.occurredAtMs == 0 ? now : event.occurredAtMs,
                    value: event.kind == "purchase" ? event.value : nil, source: event.source, properties: event.properties)
            }
        }
        let entry =
            kept.isEmpty
            ? nil
            : Retain_V1_ProfileLogEntry(activityBatch: Retain_V1_ProfileActivityBatch(events: kept, atMs: now))
        return ActivityBatch(entry: entry, positions: positions, count: events.count)
    }

    /// The outcome of each event of `batch`, read from the state right after its entry was
    /// applied (``appliedOutcomes``), with the validation errors merged in; `refusal` words the
    /// error of an event the state refused (at its position, naming the field) for the wire.
    public func activityPlan(
        _ batch: ActivityBatch, events: [Retain_V1_ActivityEvent], invalid: [Int: Retain_V1_ItemError],
        refusal: (_ position: Int, _ field: String, _ error: ProfileError) -> Retain_V1_ItemError
    ) -> ActivityPlan {
        var plan = ActivityPlan(
            outcomes: [Retain_V1_ActivityOutcome](repeating: .invalid, count: batch.count), errors: [],
            acceptedCount: 0, duplicateCount: 0)
        if batch.entry != nil {
            for (logged, position) in batch.positions.enumerated() {
                let outcome = appliedOutcomes[logged]
                plan.outcomes[position] = outcome
                switch outcome {
                case .accepted: plan.acceptedCount += 1
                case .duplicate: plan.duplicateCount += 1
                default: break
                }
            }
        }
        for position in 0..<batch.count {
            switch plan.outcomes[position] {
            case .invalid:
                if let error = invalid[position] { plan.errors.append(error) }
            case .unknownUser:
                plan.errors.append(refusal(position, "user_id", .notFound(what: "user", id: events[position].userId)))
            case .userDeleted:
                plan.errors.append(refusal(position, "user_id", .refused("user '\(events[position].userId)' is deleted")))
            default:
                break
            }
        }
        return plan
    }

    /// What one RecordActivity does.
    public enum SingleActivityPlan: Sendable {
        /// Record: log this entry.
        case accept(Retain_V1_ProfileLogEntry)
        /// Already recorded; nothing changes.
        case duplicate
    }

    /// Classifies one (validated) event: `.notFound` for an unknown user, `.refused` for
    /// a deleted one.
    public func planActivity(_ event: Retain_V1_ActivityEvent, now: Int64) throws(ProfileError) -> SingleActivityPlan {
        guard let userIndex = userIndex(event.userId) else { throw ProfileError.notFound(what: "user", id: event.userId) }
        guard !isDeleted(userIndex) else {
            throw ProfileError.refused("user '\(event.userId)' is deleted; activity is refused")
        }
        if recorded(userIndex: userIndex, userID: event.userId, eventID: event.eventId) { return .duplicate }
        return .accept(Self.prepareActivities([event], invalid: [:], now: now).entry!)
    }

    /// Records each event of the batch whose user exists, is not deleted and has not recorded
    /// its event id yet; ``appliedOutcomes`` says what happened to each.
    mutating func applyActivities(_ batch: Retain_V1_ProfileActivityBatch) {
        appliedOutcomes.removeAll(keepingCapacity: true)
        appliedOutcomes.reserveCapacity(batch.events.count)
        for event in batch.events {
            guard let userIndex = userIndex(event.userId) else {
                appliedOutcomes.append(.unknownUser)
                continue
            }
            guard !isDeleted(userIndex) else {
                appliedOutcomes.append(.userDeleted)
                continue
            }
            let key = EventIDSet.key(userID: event.userId, eventID: event.eventId)
            guard !recordedBeforeLists(userIndex: userIndex, key: key, eventID: event.eventId),
                users[Int(userIndex)].eventKeys.insert(key)
            else {
                appliedOutcomes.append(.duplicate)
                continue
            }
            onlyListedEventKeys += 1
            appliedOutcomes.append(.accepted)
            let kind = ActivityKind.index(of: event.kind)
            let at = event.occurredAtMs
            recordActivity(userIndex, day: calendar.day(of: at), atMs: at, kind: kind)
            if !experiments.isEmpty { recordConversion(userIndex, kind: kind, atMs: at) }
            if !campaigns.isEmpty { recordCampaignReturn(userIndex, kind: event.kind, atMs: at) }
            if kind == ActivityKind.purchase, let value = event.value, value.value > 0 {
                addPurchase(userIndex, asset: symbols.intern(value.asset), value: value.value)
            }
            if !event.source.isEmpty || !event.properties.isEmpty { keepEventFact(userIndex, event) }
        }
    }

    private mutating func addPurchase(_ userIndex: Int32, asset: Int32, value: Int64) {
        if let position = users[Int(userIndex)].purchaseTotals.firstIndex(where: { $0.asset == asset }) {
            let (sum, overflow) = users[Int(userIndex)].purchaseTotals[position].value.addingReportingOverflow(value)
            users[Int(userIndex)].purchaseTotals[position].value = overflow ? .max : sum
        } else {
            users[Int(userIndex)].purchaseTotals.append(PurchaseTotal(asset: asset, value: value))
        }
    }
}
