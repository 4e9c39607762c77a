public import RetainMoves
public import RetainProto
public import RetainRuleSets
public import RetainState
public import RetainWebhooks

/// The Profile service's whole state: users with their activity summaries, the event ids seen,
/// contact histories, experiments and the contact policy. Changed only through
/// ``apply(_:)`` with ``Retain_V1_ProfileLogEntry`` values, so that the write-ahead log rebuilds it.
///
/// Users get dense indices in registration order (never reused: a soft-deleted user keeps
/// theirs), so everything else refers to a user by a 32-bit index.
public struct ProfileState: PersistentState, RuleSetKeeping {
    public typealias LogEntry = Retain_V1_ProfileLogEntry

    /// Users by index.
    package var users = ChunkedArray<UserRecord>()
    /// User id to index.
    package var ids = UserIndex()
    /// Interned channels, campaigns, regions, time zones, tags, attribute keys and assets.
    package var symbols = SymbolTable<Int32>()
    /// Hashes of (user id, event_id) recorded, to recognise duplicate events.
    package var eventIDs = EventIDSet()
    /// Hashes of (user index, event_id) recorded before the set was keyed by user id (restored
    /// from an older snapshot; empty otherwise): consulted, never added to.
    package var legacyEventIDs = EventIDSet()
    /// request_id to user, for registrations whose id the server generated.
    package var registrationKeys: [String: Int32] = [:]
    /// Why and by whom users were deleted.
    package var deletionNotes: [Int32: DeletionNote] = [:]
    /// Recent contact touches per user, oldest first.
    package var contacts: [Int32: [Retain_V1_ProfileContactRecord]] = [:]
    /// Each user's latest events that carry a source or properties, oldest first (at most
    /// ``keptEventFacts``; ``keepEventFact(_:_:)``).
    package var eventFacts: [Int32: [Retain_V1_ActivityEvent]] = [:]
    /// Experiments by id.
    package var experiments: [String: Experiment] = [:]
    /// Recall campaigns by id.
    package var campaigns: [String: CampaignRecord] = [:]
    /// The contact policy set through SetContactPolicy, or nil (the configured default applies).
    package var storedPolicy: Retain_V1_ContactPolicy?
    /// Saved segments by name (PutSavedSegment).
    package var savedSegments: [String: Retain_V1_SavedSegment] = [:]
    /// Settings fixed at creation.
    package var settings = Retain_V1_ProfileSettings(activityTimeZone: "UTC")
    /// The calendar of `settings.activityTimeZone`.
    package var calendar = ZoneCalendar.utc
    /// The activation definition of `settings` (defaults where it holds 0).
    package var activation = ActivationRule()
    /// Daily, weekly and monthly active users per channel (snapshotted).
    package var activeUsers = ActiveUserCounts()
    /// Users per registration day, channel and funnel stage (derived: counted again from the
    /// users when a snapshot is restored or the activation definition changes).
    package var funnel = FunnelCounts()
    /// Users and returns per registration day and channel, for retention reports (derived:
    /// counted again from the users when a snapshot is restored).
    package var retentionCounts = RetentionCounts()
    /// Every user's stage as of one day, kept between reports (derived; never stored).
    package let stageCache = StageCache()
    /// What the latest applied activity batch did to each of its events, in order: the answer
    /// of the write that logged it (see ``activityPlan(_:events:invalid:)``). Derived while
    /// applying; never stored.
    public internal(set) var appliedOutcomes: [Retain_V1_ActivityOutcome] = []
    /// Webhook subscriptions and the deliveries of churn warnings (docs/WEBHOOKS.md).
    public internal(set) var webhooks = WebhookOutbox()
    /// Users in a churn-warning episode (warned once; not again until they leave the list), with
    /// the episode's start, Unix ms.
    package var churnEpisodes: [String: Int64] = [:]

    /// Users moved away from this shard and the ring versions its reports are right for
    /// (online resharding, ``ProfileState/applyMoves(_:)``; logged, snapshotted).
    public var fences = UserFences()
    /// Users with an index below this one were restored from a snapshot written before each
    /// user listed its event keys (``UserRecord/eventKeys``): their lists may miss older events.
    package var unlistedEventKeyUsers: Int32 = 0
    /// Event keys kept only in users' lists (``UserRecord/eventKeys``), not in ``eventIDs``:
    /// every key recorded since the lists became the duplicate check (snapshotted).
    package var onlyListedEventKeys = 0

    /// The lifecycle thresholds' versions (retain.v1.RuleSets, docs/CONFIG.md).
    public internal(set) var ruleSets = RuleSetHistory<ProfileRules>()

    public init() {}

    /// The lifecycle evaluator a call at the clock time `now` uses: the rule-set version in
    /// force, or `fallback` (the configuration file's) before the first version is stored.
    public func lifecycleEvaluator(now: Int64, fallback: LifecycleEvaluator) -> LifecycleEvaluator {
        ruleSets.rules(at: ruleSets.decisionTime(now: now))?.evaluator ?? fallback
    }

    public func ruleSetEntry(_ version: Retain_V1_RuleSetVersion) -> Retain_V1_ProfileLogEntry {
        Retain_V1_ProfileLogEntry(ruleSetVersion: version)
    }

    /// Number of users, deleted ones included.
    public var userCount: Int { users.count }

    /// Number of distinct events recorded.
    public var eventCount: Int { eventIDs.count + legacyEventIDs.count + onlyListedEventKeys }

    /// Whether user `userIndex` (id `userID`) recorded `eventID` already.
    func recorded(userIndex: Int32, userID: String, eventID: String) -> Bool {
        let key = EventIDSet.key(userID: userID, eventID: eventID)
        return users.withPointer(Int(userIndex)) { $0.pointee.eventKeys.contains(key) }
            || recordedBeforeLists(userIndex: userIndex, key: key, eventID: eventID)
    }

    /// Whether the shard-wide sets (which data written before each user's list was the check
    /// still hold) say user `userIndex` recorded the event of `key` (`eventID`) already.
    func recordedBeforeLists(userIndex: Int32, key: UInt64, eventID: String) -> Bool {
        (eventIDs.count > 0 && eventIDs.contains(key))
            || (legacyEventIDs.count > 0 && legacyEventIDs.contains(EventIDSet.key(userIndex: userIndex, eventID: eventID)))
    }

    /// The IANA zone whose local days activity is counted in.
    public var activityTimeZone: String { settings.activityTimeZone }

    public mutating func apply(_ entry: Retain_V1_ProfileLogEntry) throws {
        if let registration = entry.registration {
            try applyRegistration(registration)
        } else if let batch = entry.activityBatch {
            applyActivities(batch)
        } else if let update = entry.attributeUpdate {
            try applyAttributeUpdate(update)
        } else if let change = entry.tagChange {
            try applyTagChange(change)
        } else if let deletion = entry.deletion {
            try applyDeletion(deletion)
        } else if let touch = entry.contactTouch {
            try applyContactTouch(touch)
        } else if let change = entry.policyChange {
            applyPolicyChange(change)
        } else if let assignment = entry.assignment {
            try applyAssignment(assignment)
        } else if let settings = entry.settings {
            try applySettings(settings)
        } else if let change = entry.campaignChange {
            try applyCampaignChange(change)
        } else if let enrollment = entry.campaignEnrollment {
            try applyCampaignEnrollment(enrollment)
        } else if let touches = entry.campaignTouches {
            try applyCampaignTouches(touches)
        } else if let change = entry.webhook {
            try webhooks.apply(change)
        } else if let sweep = entry.churnSweep {
            applyChurnSweep(sweep)
        } else if let version = entry.ruleSetVersion {
            do {
                try ruleSets.apply(version)
            } catch {
                throw ProfileError.corrupt(error.description)
            }
        } else if let change = entry.savedSegmentChange {
            try applySavedSegmentChange(change)
        } else if let moved = entry.usersMoved {
            try applyMoves(UserMoves<Retain_V1_ProfileUserRecord>(moved))
        } else {
            throw ProfileError.corrupt("empty profile log entry")
        }
    }

    /// The index of the user `id`, deleted or not.
    public func userIndex(_ id: String) -> Int32? {
        ids.find(hash: UserIndex.hash(id)) { index in users.withPointer(Int(index)) { $0.pointee.id == id } }
    }

    /// The index of the user `id`; `.notFound` when unknown or soft-deleted.
    public func liveUserIndex(_ id: String) throws(ProfileError) -> Int32 {
        guard let user = userIndex(id), !isDeleted(user) else { throw ProfileError.notFound(what: "user", id: id) }
        return user
    }

    /// Whether the user is soft-deleted.
    public func isDeleted(_ userIndex: Int32) -> Bool { users.withPointer(Int(userIndex)) { $0.pointee.deletedAtMs != 0 } }

    /// A user's record.
    package func user(_ index: Int32) -> UserRecord { users[Int(index)] }

    private mutating func applySettings(_ entry: Retain_V1_ProfileSettings) throws {
        guard let calendar = ZoneCalendar.named(entry.activityTimeZone) else {
            throw ProfileError.invalid(field: "activity_time_zone", reason: "unknown time zone '\(entry.activityTimeZone)'")
        }
        guard users.count == 0 || entry.activityTimeZone == settings.activityTimeZone else {
            throw ProfileError.refused("the activity time zone cannot change once users exist")
        }
        let activation = ActivationRule(minActiveDays: entry.activationMinActiveDays, withinDays: entry.activationWithinDays)
        if let problem = activation.problems().first { throw ProfileError.invalid(field: "activation", reason: problem) }
        settings = entry
        self.calendar = calendar
        if activation != self.activation {
            self.activation = activation
            rebuildFunnel()
        }
    }

    /// A log entry that fixes the activity time zone and the activation definition, or nil when
    /// both are already in force. Throws `.refused` when users exist and the zone differs (their
    /// summaries count days of the old zone), and `.invalid` for an unknown zone or a bad
    /// definition. A new activation definition is taken at any time: the funnel is counted
    /// again from the users' activity.
    public func planSettings(
        activityTimeZone zone: String, activation: ActivationRule = ActivationRule()
    ) throws(ProfileError)
        -> Retain_V1_ProfileLogEntry?
    {
        guard zone != settings.activityTimeZone || activation != self.activation else { return nil }
        guard ZoneCalendar.named(zone) != nil else {
            throw ProfileError.invalid(field: "activity_time_zone", reason: "unknown time zone '\(zone)'")
        }
        if let problem = activation.problems().first { throw ProfileError.invalid(field: "activation", reason: problem) }
        guard users.count == 0 || zone == settings.activityTimeZone else {
            throw ProfileError.refused(
                "the data holds users whose activity days are counted in \(settings.activityTimeZone); "
                    + "activity_time_zone cannot become \(zone)")
        }
        return Retain_V1_ProfileLogEntry(
            settings: Retain_V1_ProfileSettings(
                activityTimeZone: zone, activationMinActiveDays: UInt32(activation.minActiveDays),
                activationWithinDays: UInt32(activation.withinDays)))
    }
}

/// Why and by whom a user was deleted.
package struct DeletionNote: Sendable {
    package var reason: String
    package var actor: String
}
