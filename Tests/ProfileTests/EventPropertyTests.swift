import Foundation
import Logging
@testable import ProfileCore
import RetainProto
import RetainState
import RetainWire
import Testing

/// Event sources and properties kept per user (the latest 32 by occurred_at_ms) and asked about
/// by saved segments (EventPropertyCondition), checked against a brute-force oracle over what the
/// test recorded; logged, replayed and snapshotted alike (docs/PROFILE.md#event-properties).
@Suite("event properties: kept, bounded, matched by saved segments")
struct EventPropertyTests {
    static let kinds = ["purchase", "view", "share"]
    static let sources = ["app", "web", "mini_program"]
    static let categories = ["shoes", "books", "toys", "food"]

    /// 30 users; user n records 10 + n events (some without properties, some late) spread over
    /// days 0...59 with a random kind, source and category. Returns the fixture, every recorded
    /// event in recording order, and the batches as recorded.
    func population(seed: UInt64 = 7) throws -> (ProfileFixture, [Retain_V1_ActivityEvent], [[Retain_V1_ActivityEvent]]) {
        var generator = SeededGenerator(seed: seed)
        var fixture = ProfileFixture()
        var all: [Retain_V1_ActivityEvent] = []
        var batches: [[Retain_V1_ActivityEvent]] = []
        for number in 0..<30 { try fixture.register("p\(number)", channel: "ads") }
        for number in 0..<30 {
            var batch: [Retain_V1_ActivityEvent] = []
            for index in 0..<(10 + number) {
                let dayNumber = Int64.random(in: 0..<60, using: &generator)
                var event = fixture.event(
                    "p\(number)", at: monday + dayNumber * day + Int64(index) * 1000,
                    kind: Self.kinds.randomElement(using: &generator)!)
                if index % 5 != 4 {
                    event.source = Self.sources.randomElement(using: &generator)!
                    event.properties = ["category": Self.categories.randomElement(using: &generator)!, "n": "\(index)"]
                }
                batch.append(event)
            }
            try fixture.record(batch)
            batches.append(batch)
            all += batch
        }
        return (fixture, all, batches)
    }

    /// The oracle: per user, the latest 32 recorded events that carry a source or properties.
    func kept(_ events: [Retain_V1_ActivityEvent]) -> [String: [Retain_V1_ActivityEvent]] {
        var byUser: [String: [Retain_V1_ActivityEvent]] = [:]
        for event in events where !event.source.isEmpty || !event.properties.isEmpty { byUser[event.userId, default: []].append(event) }
        return byUser.mapValues { Array($0.sorted { $0.occurredAtMs < $1.occurredAtMs }.suffix(32)) }
    }

    /// The users the oracle says match `condition` as of the end of day `number`.
    func expected(_ kept: [String: [Retain_V1_ActivityEvent]], _ condition: Retain_V1_EventPropertyCondition, day number: Int) -> [String] {
        let asOf = monday + Int64(number + 1) * day - 1
        let from = condition.days == 0 ? Int64.min : monday + Int64(number + 1 - Int(condition.days)) * day
        return kept.filter { _, events in
            events.filter { event in
                event.occurredAtMs >= from && event.occurredAtMs <= asOf
                    && (condition.kind.isEmpty || event.kind == condition.kind)
                    && (condition.source.isEmpty || event.source == condition.source)
                    && (condition.key.isEmpty
                        || (event.properties[condition.key].map { condition.values.isEmpty || condition.values.contains($0) } ?? false))
            }.count >= max(Int(condition.minCount), 1)
        }.keys.sorted()
    }

    func members(_ state: ProfileState, _ condition: Retain_V1_EventPropertyCondition, day number: Int) throws -> [String] {
        let tree = try SegmentRuleTree(Retain_V1_SegmentRule(eventProperty: condition), field: "rule")
        let answer = try state.matchSegmentRule(
            tree, pageSize: 1000, pageToken: "", asOf: monday + Int64(number + 1) * day - 1, now: monday + 400 * day,
            undecidedOnly: false, withValues: false, evaluator: LifecycleEvaluator(rules: LifecycleRules()))
        return answer.candidates.map(\.userId)
    }

    static let conditions: [(Retain_V1_EventPropertyCondition, Int)] = [
        (Retain_V1_EventPropertyCondition(kind: "purchase", key: "category", values: ["shoes"], days: 30), 59),
        (Retain_V1_EventPropertyCondition(kind: "purchase", key: "category", values: ["shoes", "toys"], days: 7, minCount: 1), 40),
        (Retain_V1_EventPropertyCondition(source: "mini_program", days: 0, minCount: 3), 59),
        (Retain_V1_EventPropertyCondition(source: "web", key: "category", days: 14, minCount: 2), 30),
        (Retain_V1_EventPropertyCondition(key: "category", values: ["food"], days: 0, minCount: 5), 59),
        (Retain_V1_EventPropertyCondition(kind: "view", days: 10), 20),
        (Retain_V1_EventPropertyCondition(key: "n", values: ["0"], days: 0), 59),
    ]

    @Test("saved-segment members by kind, source, property and window equal a brute-force count over the latest 32 per user")
    func matchesOracle() throws {
        let (fixture, all, _) = try population()
        let kept = kept(all)
        #expect(kept.values.contains { $0.count == 32 }, "some users exceed the bound")
        var nonEmpty = 0
        for (condition, dayNumber) in Self.conditions {
            let want = expected(kept, condition, day: dayNumber)
            if !want.isEmpty { nonEmpty += 1 }
            #expect(try members(fixture.state, condition, day: dayNumber) == want, "\(condition)")
        }
        #expect(nonEmpty >= 5, "the conditions select someone")
        // The matched values column counts the matching events.
        let tree = try SegmentRuleTree(Retain_V1_SegmentRule(eventProperty: Self.conditions[2].0), field: "rule")
        let answer = try fixture.state.matchSegmentRule(
            tree, pageSize: 1000, pageToken: "", asOf: monday + 60 * day - 1, now: monday + 400 * day,
            undecidedOnly: false, withValues: true, evaluator: fixture.evaluator)
        for candidate in answer.candidates {
            let count = kept[candidate.userId]!.filter { $0.source == "mini_program" }.count
            #expect(candidate.values == [String(count)])
        }
    }

    @Test("a late event takes its place by time; only the latest 32 are kept; a deleted user's are forgotten")
    func bounded() throws {
        var fixture = ProfileFixture()
        let index = try fixture.register("b1")
        var events: [Retain_V1_ActivityEvent] = []
        for number in 0..<40 {
            var event = fixture.event("b1", at: monday + Int64(number) * day)
            event.properties = ["n": "\(number)"]
            events.append(event)
        }
        try fixture.record(Array(events[10...]))
        try fixture.record(Array(events[..<10]))
        #expect(fixture.state.facts(of: index).map { $0.properties["n"]! } == (8..<40).map { "\($0)" })
        // A late event newer than the oldest kept one goes in its place, and the oldest goes.
        var late = fixture.event("b1", at: monday + 8 * day + 1)
        late.source = "web"
        try fixture.record([late])
        #expect(fixture.state.facts(of: index).count == 32)
        #expect(fixture.state.facts(of: index).first?.source == "web")
        #expect(fixture.state.facts(of: index).dropFirst().map { $0.properties["n"]! } == (9..<40).map { "\($0)" })
        let deletion = try fixture.state.planDeletion(userID: "b1", reason: "asked", actor: "ops", now: monday + 50 * day)
        guard case .delete(let entry) = deletion else {
            Issue.record("no deletion")
            return
        }
        try fixture.state.apply(entry)
        #expect(fixture.state.facts(of: index).isEmpty)
    }

    @Test("conditions are validated naming the field")
    func validation() {
        func refusal(_ condition: Retain_V1_EventPropertyCondition) -> String? {
            do {
                _ = try SegmentRuleTree(Retain_V1_SegmentRule(eventProperty: condition), field: "rule")
                return nil
            } catch {
                return error.message
            }
        }
        #expect(refusal(Retain_V1_EventPropertyCondition(days: 3))?.contains("rule.event_property") == true)
        #expect(refusal(Retain_V1_EventPropertyCondition(kind: "view", values: ["x"]))?.contains("values") == true)
        #expect(refusal(Retain_V1_EventPropertyCondition(kind: "view", minCount: 33))?.contains("min_count") == true)
        #expect(refusal(Retain_V1_EventPropertyCondition(kind: "view", days: 401))?.contains("days") == true)
        #expect(refusal(Retain_V1_EventPropertyCondition(kind: "view", days: 400, minCount: 32)) == nil)
    }

    @Test("the facts come back the same from the log alone and from a snapshot plus the log")
    func recovery() async throws {
        let (fixture, _, batches) = try population(seed: 11)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("profile-facts-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // The same registrations and batches through a store: log, snapshot halfway, log more.
        do {
            let store = try StateStore<ProfileState>(directory: directory, logger: Logger(label: "profile-test"))
            for number in 0..<30 {
                let request = Retain_V1_RegisterUserRequest(userId: "p\(number)", channel: "ads", registeredAtMs: monday)
                _ = try await store.writeDurably { transaction in
                    guard case .register(let entry) = try transaction.withState({ try $0.planRegistration(request, now: monday) { "x" } })
                    else { return }
                    try transaction.log(entry)
                }
            }
            for (position, batch) in batches.enumerated() {
                let entry = ProfileState.prepareActivities(batch, invalid: [:], now: monday + 400 * day).entry!
                _ = try await store.writeDurably { try $0.log(entry) }
                if position == 14 { #expect(try store.snapshot() != nil) }
            }
            store.close()
        }
        let reopened = try StateStore<ProfileState>(directory: directory, logger: Logger(label: "profile-test"))
        defer { reopened.close() }
        reopened.read { state in
            for number in 0..<30 {
                let original = fixture.state.facts(of: fixture.state.userIndex("p\(number)")!)
                #expect(state.facts(of: state.userIndex("p\(number)")!) == original, "p\(number)")
            }
        }
        for (condition, dayNumber) in Self.conditions {
            let restored = try reopened.read { try members($0, condition, day: dayNumber) }
            #expect(restored == (try members(fixture.state, condition, day: dayNumber)))
        }
    }
}
