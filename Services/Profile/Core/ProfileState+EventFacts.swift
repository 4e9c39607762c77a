import RetainState
package import RetainProto

/// Event facts (docs/PROFILE.md#event-properties): for each user, the latest
/// ``ProfileState/keptEventFacts`` accepted events that carried a source or properties, kept as
/// the activity batch logged them, so that saved segments can ask about them
/// (`EventPropertyCondition`). Bounded per user; forgotten when the user is deleted.
extension ProfileState {
    /// Events with a source or properties kept per user.
    package static let keptEventFacts = 32

    /// Keeps `event` among the user's facts, in occurred_at_ms order (a late event goes in its
    /// place), dropping the oldest past ``keptEventFacts``.
    mutating func keepEventFact(_ userIndex: Int32, _ event: Retain_V1_ActivityEvent) {
        var facts = eventFacts.removeValue(forKey: userIndex) ?? []
        var fact = event
        fact.value = nil
        let position = facts.lastIndex { $0.occurredAtMs <= fact.occurredAtMs }.map { $0 + 1 } ?? 0
        facts.insert(fact, at: position)
        if facts.count > Self.keptEventFacts { facts.removeFirst(facts.count - Self.keptEventFacts) }
        eventFacts[userIndex] = facts
    }

    /// The snapshot records of the event facts, one per user, by user index.
    func eventFactRecords() -> [Retain_V1_ProfileSnapshotRecord] {
        eventFacts.keys.sorted().map { userIndex in
            Retain_V1_ProfileSnapshotRecord(
                eventFacts: Retain_V1_ProfileSnapshotEventFacts(userIndex: UInt32(userIndex), events: eventFacts[userIndex]!))
        }
    }

    /// Restores one user's facts from a snapshot record.
    mutating func restoreEventFacts(_ record: Retain_V1_ProfileSnapshotEventFacts) throws {
        guard Int(record.userIndex) < users.count else {
            throw StateRecoveryError("profile snapshot: event facts of unknown user index \(record.userIndex)")
        }
        guard record.events.count <= Self.keptEventFacts else {
            throw StateRecoveryError("profile snapshot: \(record.events.count) event facts for user index \(record.userIndex)")
        }
        eventFacts[Int32(record.userIndex)] = record.events
    }

    /// The facts of user `userIndex`, oldest first (an empty list when none).
    package func facts(of userIndex: Int32) -> [Retain_V1_ActivityEvent] { eventFacts[userIndex] ?? [] }
}

/// One EventPropertyCondition compiled for an as-of time: counts a user's kept events that match.
package struct EventFactMatcher: Sendable {
    let kind: String
    let source: String
    let key: String
    let values: Set<String>
    /// Events at or after this time count (Int64.min: any time).
    let fromMs: Int64
    /// Events after this time do not count.
    let toMs: Int64
    /// How many must match.
    package let minimum: Int

    /// - Parameters:
    ///   - asOf: the evaluation time; its local day is the window's last.
    ///   - calendar: the activity time zone's calendar.
    package init(_ condition: Retain_V1_EventPropertyCondition, asOf: Int64, calendar: ZoneCalendar) {
        kind = condition.kind
        source = condition.source
        key = condition.key
        values = Set(condition.values)
        toMs = asOf
        if condition.days == 0 {
            fromMs = .min
        } else {
            let firstDay = calendar.day(of: asOf) - Int32(condition.days) + 1
            fromMs = calendar.startOfDay(firstDay)
        }
        minimum = Int(max(condition.minCount, 1))
    }

    /// How many of `facts` match.
    package func count(_ facts: [Retain_V1_ActivityEvent]) -> Int {
        var count = 0
        for fact in facts where fact.occurredAtMs >= fromMs && fact.occurredAtMs <= toMs {
            guard kind.isEmpty || fact.kind == kind, source.isEmpty || fact.source == source else { continue }
            if !key.isEmpty {
                guard let value = fact.properties[key], values.isEmpty || values.contains(value) else { continue }
            }
            count += 1
        }
        return count
    }

    /// Whether enough of `facts` match.
    package func matches(_ facts: [Retain_V1_ActivityEvent]) -> Bool { count(facts) >= minimum }
}
