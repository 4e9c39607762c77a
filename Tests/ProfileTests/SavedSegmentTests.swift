import Foundation
import Logging
@testable import ProfileCore
import RetainProto
import RetainState
import RetainWire
import Testing

@Suite("saved segments: rules, matching, storage")
struct SavedSegmentTests {
    /// Twelve users u0...u11 registered on `monday`: channel ads for even, organic for odd; tag
    /// "vip" on multiples of 3; attribute score = n; user n logs in on each of the days 30...30+n
    /// (n + 1 days, once a day) and buys n times on day 35 (n x 100 cash.usd).
    func population() throws -> ProfileFixture {
        var fixture = ProfileFixture()
        for number in 0..<12 {
            let id = "u\(number)"
            try fixture.register(
                id, channel: number % 2 == 0 ? "ads" : "organic", tags: number % 3 == 0 ? ["vip"] : [],
                attributes: ["score": "\(number)"])
            try fixture.active(id, days: 30...(30 + number))
            var purchases: [Retain_V1_ActivityEvent] = []
            for index in 0..<number {
                purchases.append(fixture.event(id, at: monday + 35 * day + day / 2 + Int64(index), kind: "purchase", value: 100))
            }
            if !purchases.isEmpty { try fixture.record(purchases) }
        }
        return fixture
    }

    func tree(_ rule: Retain_V1_SegmentRule) throws -> SegmentRuleTree { try SegmentRuleTree(rule, field: "rule") }

    /// The users the rule matches on the state, as of the end of day `number`.
    func members(_ fixture: ProfileFixture, _ rule: Retain_V1_SegmentRule, day number: Int = 50) throws -> [String] {
        let answer = try fixture.state.matchSegmentRule(
            try tree(rule), pageSize: 1000, pageToken: "", asOf: monday + Int64(number + 1) * day - 1, now: monday + 400 * day,
            undecidedOnly: false, withValues: false, evaluator: fixture.evaluator)
        return answer.candidates.map(\.userId)
    }

    func ids(_ numbers: some Sequence<Int>) -> [String] { numbers.map { "u\($0)" }.sorted() }

    static func tag(_ name: String) -> Retain_V1_SegmentRule { Retain_V1_SegmentRule(tag: Retain_V1_TagPredicate(tag: name)) }
    static func channel(_ names: String...) -> Retain_V1_SegmentRule {
        Retain_V1_SegmentRule(channel: Retain_V1_ChannelPredicate(channels: names))
    }
    static func activity(
        _ kind: String = "", days: UInt32, min: UInt32 = 0, max: UInt32? = nil, measure: Retain_V1_ActivityMeasure = .events
    )
        -> Retain_V1_SegmentRule
    {
        Retain_V1_SegmentRule(
            activity: Retain_V1_ActivityCondition(
                kind: kind, days: days, minCount: min, hasMax: max != nil, maxCount: max ?? 0, measure: measure))
    }

    @Test("all, any and none combine predicates over attributes, tags, channel, activity and purchases")
    func combinations() throws {
        let fixture = try population()
        #expect(try members(fixture, Self.tag("vip")) == ids([0, 3, 6, 9]))
        #expect(try members(fixture, Retain_V1_SegmentRule(none: [Self.tag("vip")])) == ids([1, 2, 4, 5, 7, 8, 10, 11]))
        #expect(try members(fixture, Retain_V1_SegmentRule(all: [Self.tag("vip"), Self.channel("ads")])) == ids([0, 6]))
        #expect(
            try members(fixture, Retain_V1_SegmentRule(any: [Self.tag("vip"), Self.channel("ads")])) == ids([0, 2, 3, 4, 6, 8, 9, 10]))
        let range = Retain_V1_SegmentRule(
            attributeRange: Retain_V1_AttributeRange(key: "score", hasMin: true, minValue: 4, hasMax: true, maxValue: 6))
        #expect(try members(fixture, range) == ids(4...6))
        let equals = Retain_V1_SegmentRule(attributeEquals: Retain_V1_AttributeEquals(key: "score", values: ["1", "11"]))
        #expect(try members(fixture, equals) == ids([1, 11]))
        // Purchases: user n bought n times on day 35; 3 or more purchases in the 7 days to day 38.
        #expect(try members(fixture, Self.activity("purchase", days: 7, min: 3), day: 38) == ids(3...11))
        // ... but the window of the 3 days to day 34 holds none.
        #expect(try members(fixture, Self.activity("purchase", days: 3, min: 1), day: 34) == [])
        // Events of every kind in the last 3 days to day 33: logins on 31...33 plus day 35's purchases are later.
        #expect(try members(fixture, Self.activity(days: 3, min: 3), day: 33) == ids(3...11))
        #expect(try members(fixture, Self.activity(days: 3, min: 1, max: 2), day: 33) == ids(1...2))
        // Active days in the 10 days to day 45: user n was active on 30...30+n and (n > 0) day 35.
        #expect(try members(fixture, Self.activity(days: 10, min: 5, measure: .activeDays), day: 45) == ids(10...11))
        // All-time purchase counts and sums.
        #expect(try members(fixture, Self.activity("purchase", days: 0, min: 10)) == ids(10...11))
        let sum = Retain_V1_SegmentRule(
            purchaseTotal: Retain_V1_PurchaseTotalCondition(asset: "cash.usd", hasMin: true, minValue: 500, hasMax: true, maxValue: 700))
        #expect(try members(fixture, sum) == ids(5...7))
        let noSum = Retain_V1_SegmentRule(purchaseTotal: Retain_V1_PurchaseTotalCondition(asset: "cash.usd", hasMax: true, maxValue: 0))
        #expect(try members(fixture, noSum) == ids([0]))
    }

    @Test("membership as of a time: activity windows move with it, later registrations do not count")
    func asOf() throws {
        var fixture = try population()
        let rule = Self.activity(days: 5, min: 1)
        // As of day 29 nobody was active yet; as of day 31 everyone; as of day 40 only n >= 6 (active on 36...).
        #expect(try members(fixture, rule, day: 29) == [])
        #expect(try members(fixture, rule, day: 31) == ids(0...11))
        #expect(try members(fixture, rule, day: 40) == ids(6...11))
        try fixture.register("late", at: monday + 45 * day)
        #expect(try members(fixture, Retain_V1_SegmentRule(none: [Self.tag("vip")]), day: 40).contains("late") == false)
        #expect(try members(fixture, Retain_V1_SegmentRule(none: [Self.tag("vip")]), day: 46).contains("late"))
    }

    @Test("level and balance predicates are left undecided for the gateway, with the Profile predicates' bits")
    func undecided() throws {
        let fixture = try population()
        let level = Retain_V1_SegmentRule(level: Retain_V1_LevelPredicate(hasMinLevel: true, minLevel: 2))
        // vip AND level: non-vip users are decided false; vip users undecided.
        let rule = Retain_V1_SegmentRule(all: [Self.tag("vip"), level])
        let answer = try fixture.state.matchSegmentRule(
            try tree(rule), pageSize: 1000, pageToken: "", asOf: nil, now: monday + 60 * day, undecidedOnly: false,
            withValues: true, evaluator: fixture.evaluator)
        #expect(answer.candidates.map(\.userId) == ids([0, 3, 6, 9]))
        #expect(answer.candidates.allSatisfy { !$0.decided && $0.truePredicates == 1 && $0.values == ["true", ""] })
        #expect(answer.decided == 0 && answer.undecided == 4)
        // vip OR level: vip users decided true, the others undecided.
        let either = try fixture.state.matchSegmentRule(
            try tree(Retain_V1_SegmentRule(any: [Self.tag("vip"), level])), pageSize: 1000, pageToken: "", asOf: nil,
            now: monday + 60 * day, undecidedOnly: true, withValues: false, evaluator: fixture.evaluator)
        #expect(either.decided == 4 && either.undecided == 8)
        #expect(either.candidates.map(\.userId) == ids([1, 2, 4, 5, 7, 8, 10, 11]))
    }

    @Test("pages follow user ids with a token bound to the rule and the as-of time")
    func paging() throws {
        let fixture = try population()
        let rule = Retain_V1_SegmentRule(none: [Self.tag("vip")])
        var token = ""
        var seen: [String] = []
        repeat {
            let page = try fixture.state.matchSegmentRule(
                try tree(rule), pageSize: 3, pageToken: token, asOf: nil, now: monday + 60 * day, undecidedOnly: false,
                withValues: false, evaluator: fixture.evaluator)
            #expect(page.candidates.count <= 3)
            #expect(page.pageInfo?.total == 8)
            seen += page.candidates.map(\.userId)
            token = page.pageInfo?.nextPageToken ?? ""
        } while !token.isEmpty
        #expect(seen == ids([1, 2, 4, 5, 7, 8, 10, 11]))
        let first = try fixture.state.matchSegmentRule(
            try tree(rule), pageSize: 3, pageToken: "", asOf: nil, now: monday + 60 * day, undecidedOnly: false, withValues: false,
            evaluator: fixture.evaluator)
        #expect(throws: ProfileError.self) {
            try fixture.state.matchSegmentRule(
                try tree(Self.tag("vip")), pageSize: 3, pageToken: first.pageInfo!.nextPageToken, asOf: nil, now: monday + 60 * day,
                undecidedOnly: false, withValues: false, evaluator: fixture.evaluator)
        }
    }

    @Test("bad rules are refused naming the field")
    func validation() throws {
        func field(_ rule: Retain_V1_SegmentRule?) -> String? {
            do {
                _ = try SegmentRuleTree(rule, field: "segment.rule")
                return nil
            } catch {
                return error.details["field"] ?? error.message
            }
        }
        #expect(field(nil) == "segment.rule")
        #expect(field(Retain_V1_SegmentRule()) == "segment.rule")
        #expect(field(Retain_V1_SegmentRule(all: [Self.tag("a")], tag: Retain_V1_TagPredicate(tag: "b"))) == "segment.rule")
        #expect(field(Retain_V1_SegmentRule(all: [Self.tag("ok"), Self.tag("Not A Name")])) == "segment.rule.all[1].tag.tag")
        #expect(field(Retain_V1_SegmentRule(any: [Self.activity("login", days: 7, min: 1)])) == "segment.rule.any[0].activity.days")
        #expect(field(Self.activity(days: 57)) == "segment.rule.activity.days")
        #expect(field(Self.activity("teleport", days: 0)) == "segment.rule.activity.kind")
        #expect(field(Self.activity(days: 7, min: 5, max: 2)) == "segment.rule.activity.max_count")
        #expect(field(Retain_V1_SegmentRule(level: Retain_V1_LevelPredicate())) == "segment.rule.level")
        #expect(field(Retain_V1_SegmentRule(balance: Retain_V1_BalancePredicate(hasMin: true))) == "segment.rule.balance.asset")
        #expect(field(Retain_V1_SegmentRule(channel: Retain_V1_ChannelPredicate())) == "segment.rule.channel.channels")
        var deep = Self.tag("x")
        for _ in 0..<8 { deep = Retain_V1_SegmentRule(all: [deep]) }
        #expect(field(deep)?.hasPrefix("segment.rule.all[0]") == true)
        let many = Retain_V1_SegmentRule(any: (0..<65).map { Self.tag("t\($0)") })
        #expect(field(many) != nil)
        #expect(field(Retain_V1_SegmentRule(none: [Self.channel("ads")])) == nil)
    }

    @Test("three-valued logic: unknown predicates decide only where they matter")
    func threeValued() throws {
        let level = Retain_V1_SegmentRule(level: Retain_V1_LevelPredicate(hasMinLevel: true, minLevel: 2))
        let tree = try tree(
            Retain_V1_SegmentRule(any: [Retain_V1_SegmentRule(all: [Self.tag("a"), level]), Retain_V1_SegmentRule(none: [Self.tag("b")])]))
        // Predicates: 0 tag a, 1 level, 2 tag b.
        func value(_ a: Bool, _ b: Bool, _ level: Bool?) -> Bool? {
            tree.evaluate { [a, level, b][$0] }
        }
        #expect(value(false, false, nil) == true, "none(b) holds")
        #expect(value(false, true, nil) == false)
        #expect(value(true, true, nil) == nil)
        #expect(value(true, true, true) == true)
        #expect(value(true, true, false) == false)
        #expect(tree.owner(of: 1) == .growth && tree.owner(of: 0) == .profile)
        #expect((0..<3).map { tree.column($0) } == ["tag:a", "level", "tag:b"])
    }

    @Test("definitions are versioned, a retry changes nothing, and they survive a snapshot")
    func storage() async throws {
        var fixture = try population()
        let segment = Retain_V1_SavedSegment(name: "vips", description: "the VIPs", rule: Self.tag("vip"))
        guard
            case .write(let entry) = try fixture.state.planSavedSegment(segment, create: true, expectedVersion: 0, actor: "ops", now: 1000)
        else {
            Issue.record("a new segment was not written")
            return
        }
        try fixture.state.apply(entry)
        #expect(fixture.state.savedSegment("vips")?.version == 1)
        // A retry of the same create answers the stored one.
        guard
            case .unchanged(let stored) = try fixture.state.planSavedSegment(
                segment, create: true, expectedVersion: 0, actor: "ops", now: 2000)
        else {
            Issue.record("a retried create wrote again")
            return
        }
        #expect(stored.createdAtMs == 1000)
        var changed = segment
        changed.rule = Self.channel("ads")
        #expect(throws: ProfileError.self) {
            try fixture.state.planSavedSegment(changed, create: true, expectedVersion: 0, actor: "ops", now: 2000)
        }
        #expect(throws: ProfileError.versionMismatch("expected_version 7 does not match the stored version 1")) {
            try fixture.state.planSavedSegment(changed, create: false, expectedVersion: 7, actor: "ops", now: 2000)
        }
        guard
            case .write(let update) = try fixture.state.planSavedSegment(
                changed, create: false, expectedVersion: 1, actor: "lead", now: 3000)
        else {
            Issue.record("an update was not written")
            return
        }
        try fixture.state.apply(update)
        let updated = try #require(fixture.state.savedSegment("vips"))
        #expect(updated.version == 2 && updated.createdBy == "ops" && updated.updatedBy == "lead" && updated.updatedAtMs == 3000)
        // Logged, snapshotted, restored: the definitions come back with their versions.
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("profile-segments-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        do {
            let store = try StateStore<ProfileState>(directory: directory, logger: Logger(label: "profile-test"))
            _ = try await store.writeDurably { try $0.log(entry) }
            _ = try await store.writeDurably { try $0.log(update) }
            #expect(try store.snapshot() != nil)
            store.close()
        }
        let reopened = try StateStore<ProfileState>(directory: directory, logger: Logger(label: "profile-test"))
        let restored = reopened.read { $0.allSavedSegments() }
        reopened.close()
        #expect(restored.map(\.version) == [2])
        #expect(restored.first?.rule?.channel?.channels == ["ads"])
        #expect(restored.first?.createdAtMs == 1000)
        let deletion = try #require(fixture.state.planSavedSegmentDeletion("vips", actor: "ops", now: 4000))
        try fixture.state.apply(deletion)
        #expect(fixture.state.allSavedSegments().isEmpty)
        #expect(fixture.state.planSavedSegmentDeletion("vips", actor: "ops", now: 5000) == nil)
    }
}
