import Foundation
import Logging
@testable import ProfileCore
import ProfileService
import RetainProto
import RetainState
import RetainWire
import Testing

@Suite("active users (DAU, WAU, MAU) and the activation funnel")
struct ActiveUsersTests {
    /// The whole range of days 0 ..< count after `monday`.
    func range(days count: Int, from first: Int = 0) -> Retain_V1_TimeRange {
        Retain_V1_TimeRange(startMs: monday + Int64(first) * day, endMs: monday + Int64(first + count) * day)
    }

    /// DAU, WAU and MAU per day from the raw active days, for comparison.
    func expected(_ activeDays: [[Int]], days: Range<Int>) -> [(Int, Int, Int)] {
        days.map { today in
            func active(_ width: Int) -> Int {
                activeDays.filter { user in user.contains { $0 <= today && $0 > today - width } }.count
            }
            return (active(1), active(7), active(30))
        }
    }

    @Test("DAU, WAU and MAU per day and channel equal the distinct users active in the day, 7 days and 30 days")
    func activeUsersPerDay() throws {
        var fixture = ProfileFixture()
        let plan: [(String, String, [Int])] = [
            ("a", "organic", [0, 1, 2, 10, 40]), ("b", "organic", [5]), ("c", "paid", [0, 6, 7, 8, 35, 36]),
            ("d", "paid", []), ("e", "paid", [29, 30, 31]),
        ]
        for (user, channel, _) in plan { try fixture.register(user, at: monday - day, channel: channel) }
        for (user, _, days) in plan { try fixture.active(user, days: days, perDay: 2) }
        let answer = try fixture.state.activeUsers(
            .init(range: range(days: 45), byChannel: true), asOf: monday + 44 * day + day / 2)
        let all = answer.days.filter(\.allChannels)
        #expect(all.count == 45)
        let want = expected(plan.map(\.2), days: 0..<45)
        for (offset, row) in all.enumerated() {
            #expect((Int(row.dau), Int(row.wau), Int(row.mau)) == want[offset], "day \(offset)")
            #expect(row.dayStartMs == monday + Int64(offset) * day)
            #expect(row.complete == (offset < 44), "day \(offset): only the day of as_of is not over")
        }
        let paid = answer.days.filter { !$0.allChannels && $0.channel == "paid" }
        let wantPaid = expected(plan.filter { $0.1 == "paid" }.map(\.2), days: 0..<45)
        #expect(paid.map { (Int($0.dau), Int($0.wau), Int($0.mau)) }.elementsEqual(wantPaid, by: ==))
        #expect(Set(answer.days.map(\.channel)) == ["", "organic", "paid"])

        let onlyOrganic = try fixture.state.activeUsers(
            .init(range: range(days: 3), channels: ["organic", "tv"], byChannel: true), asOf: monday)
        #expect(onlyOrganic.days.map(\.channel) == ["", "organic", "tv", "", "organic", "tv", "", "organic", "tv"])
        #expect(onlyOrganic.days.filter(\.allChannels).map(\.dau) == [1, 1, 1])
        #expect(onlyOrganic.days.allSatisfy { !$0.complete })
    }

    @Test("late and shuffled events give the same counts as events in order")
    func outOfOrder() throws {
        var generator = SystemRandomNumberGenerator()
        var activeDays: [[Int]] = []
        var ordered = ProfileFixture()
        var shuffled = ProfileFixture()
        var events: [Retain_V1_ActivityEvent] = []
        for number in 0..<60 {
            let days = (0..<12).map { _ in Int.random(in: 0..<90, using: &generator) }
            activeDays.append(days)
            try ordered.register("u\(number)", at: monday, channel: number % 3 == 0 ? "ads" : "organic")
            try shuffled.register("u\(number)", at: monday, channel: number % 3 == 0 ? "ads" : "organic")
            for (position, active) in days.sorted().enumerated() {
                events.append(
                    Retain_V1_ActivityEvent(
                        userId: "u\(number)", eventId: "e\(position)", kind: "visit",
                        occurredAtMs: monday + Int64(active) * day + 1000))
            }
        }
        try ordered.record(events)
        for part in stride(from: 0, to: events.count, by: 50) {
            try shuffled.record(Array(events.shuffled(using: &generator)[part..<min(part + 50, events.count)]))
        }
        // The second fixture may have seen an event twice (shuffled per part): duplicates change nothing.
        try shuffled.record(events.shuffled(using: &generator))
        let request = Retain_V1_GetActiveUsersRequest(range: range(days: 100), byChannel: true)
        let first = try ordered.state.activeUsers(request, asOf: monday + 200 * day)
        let second = try shuffled.state.activeUsers(request, asOf: monday + 200 * day)
        #expect(first == second)
        let want = expected(activeDays, days: 0..<100)
        #expect(first.days.filter(\.allChannels).map { (Int($0.dau), Int($0.wau), Int($0.mau)) }.elementsEqual(want, by: ==))
    }

    @Test("the funnel: registered, activated (2 active days of the first 7 by default), then purchased; deleted users leave it")
    func funnel() throws {
        var fixture = ProfileFixture()
        // Day 0: a (returns on day 3, then buys), b (day 0 only), c (returns on day 7: too late),
        // d (buys on day 0, never returns); day 1: e (ads, returns on day 2), f (ads, deleted).
        for user in ["a", "b", "c", "d"] { try fixture.register(user, at: monday + 3_600_000, channel: "organic") }
        for user in ["e", "f"] { try fixture.register(user, at: monday + day + 3_600_000, channel: "ads") }
        try fixture.active("a", days: [0, 3])
        try fixture.record([fixture.event("a", at: monday + 20 * day, kind: "purchase", value: 500)])
        try fixture.active("b", days: [0])
        try fixture.active("c", days: [0, 7, 8])
        try fixture.record([fixture.event("d", at: monday + 3_700_000, kind: "purchase", value: 900)])
        try fixture.active("e", days: [1, 2])
        try fixture.active("f", days: [1, 2])
        if case .delete(let entry) = try fixture.state.planDeletion(userID: "f", reason: "spam", actor: "ops", now: monday + 9 * day) {
            try fixture.state.apply(entry)
        }
        let request = Retain_V1_GetFunnelRequest(registered: range(days: 2), byChannel: true)
        let answer = try fixture.state.funnel(request, asOf: monday + 30 * day)
        #expect(answer.activation == Retain_V1_ActivationDefinition(minActiveDays: 2, withinDays: 7))
        #expect(answer.rows.map(\.channel) == ["", "ads", "organic", "", "ads", "organic"])
        let dayZero = answer.rows[0]
        #expect(dayZero.allChannels)
        #expect((dayZero.registered, dayZero.activated, dayZero.purchased, dayZero.purchasedNotActivated) == (4, 1, 1, 1))
        #expect(dayZero.activationRate == 0.25 && dayZero.purchaseRate == 1)
        #expect(dayZero.complete)
        let dayOneAds = answer.rows[4]
        #expect((dayOneAds.registered, dayOneAds.activated, dayOneAds.purchased) == (1, 1, 0))

        // Weekly: one cohort; complete only once day 6 of its last day (day 1 + 6 = day 7) is over.
        let weekly = try fixture.state.funnel(.init(granularity: .week, registered: range(days: 2)), asOf: monday + 7 * day)
        #expect(weekly.rows.count == 1)
        #expect((weekly.rows[0].registered, weekly.rows[0].activated, weekly.rows[0].complete) == (5, 2, false))
        #expect(try fixture.state.funnel(.init(granularity: .week, registered: range(days: 2)), asOf: monday + 8 * day).rows[0].complete)
    }

    @Test("a new activation definition counts the funnel again; the configuration's default is 2 of 7")
    func activationDefinition() throws {
        #expect(ProfileConfiguration().activation == ActivationRule(minActiveDays: 2, withinDays: 7))
        var fixture = ProfileFixture()
        for user in ["a", "b", "c"] { try fixture.register(user, at: monday) }
        try fixture.active("a", days: [0, 1, 2])
        try fixture.active("b", days: [0, 5])
        try fixture.active("c", days: [0, 10])
        let request = Retain_V1_GetFunnelRequest(registered: range(days: 1))
        #expect(try fixture.state.funnel(request, asOf: monday + 40 * day).rows[0].activated == 2)
        let entry = try #require(
            try fixture.state.planSettings(activityTimeZone: "UTC", activation: .init(minActiveDays: 3, withinDays: 3)))
        try fixture.state.apply(entry)
        #expect(try fixture.state.funnel(request, asOf: monday + 40 * day).rows[0].activated == 1)
        try fixture.state.apply(
            try #require(try fixture.state.planSettings(activityTimeZone: "UTC", activation: .init(minActiveDays: 2, withinDays: 14))))
        #expect(try fixture.state.funnel(request, asOf: monday + 40 * day).rows[0].activated == 3)
        #expect(try fixture.state.planSettings(activityTimeZone: "UTC", activation: .init(minActiveDays: 2, withinDays: 14)) == nil)
        #expect(throws: ProfileError.self) {
            try fixture.state.planSettings(activityTimeZone: "UTC", activation: .init(minActiveDays: 8, withinDays: 7))
        }
    }

    @Test("reports in another zone, or over more than 366 days, are refused naming the field")
    func refusals() throws {
        var fixture = ProfileFixture()
        try fixture.register("a")
        #expect(
            rpcError { _ = try fixture.state.activeUsers(.init(range: range(days: 3), timeZone: "Asia/Shanghai"), asOf: monday) }?.message
                .contains("time_zone") == true)
        #expect(
            rpcError { _ = try fixture.state.activeUsers(.init(range: range(days: 367)), asOf: monday) }?.message.contains("range") == true)
        #expect(
            rpcError { _ = try fixture.state.funnel(.init(registered: range(days: 367)), asOf: monday) }?.message.contains("registered")
                == true)
    }

    @Test("counts rebuilt from the summaries (snapshots of earlier versions) equal the counts kept as events arrived")
    func rebuildFromSummaries() throws {
        var fixture = ProfileFixture()
        var generator = SystemRandomNumberGenerator()
        for number in 0..<40 {
            try fixture.register("u\(number)", at: monday, channel: number % 2 == 0 ? "a" : "b")
            try fixture.active("u\(number)", days: (0..<15).map { _ in Int.random(in: 0..<200, using: &generator) })
        }
        let request = Retain_V1_GetActiveUsersRequest(range: range(days: 230), byChannel: true)
        let kept = try fixture.state.activeUsers(request, asOf: monday + 300 * day)
        fixture.state.rebuildActiveUsers()
        #expect(try fixture.state.activeUsers(request, asOf: monday + 300 * day) == kept)
    }

    @Test("active users and the funnel survive a restart: from the snapshot, and from the log written after it")
    func restart() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("profile-dau-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let logger = Logger(label: "profile-test")
        func log(_ store: StateStore<ProfileState>, _ entry: Retain_V1_ProfileLogEntry?) async throws {
            guard let entry else { return }
            _ = try await store.writeDurably { try $0.log(entry) }
        }
        func fill(_ store: StateStore<ProfileState>, prefix: String, days: [Int]) async throws {
            for number in 0..<30 {
                let request = Retain_V1_RegisterUserRequest(
                    userId: "\(prefix)\(number)", channel: number % 2 == 0 ? "ads" : "organic", registeredAtMs: monday)
                if case .register(let entry) = try store.read({ try $0.planRegistration(request, now: monday, generateID: { "" }) }) {
                    try await log(store, entry)
                }
            }
            var events: [Retain_V1_ActivityEvent] = []
            for number in 0..<30 {
                for active in days where (active + number) % 3 != 0 {
                    events.append(
                        .init(
                            userId: "\(prefix)\(number)", eventId: "e\(active)", kind: active == 4 ? "purchase" : "login",
                            occurredAtMs: monday + Int64(active) * day + 5, value: active == 4 ? .init(value: 10, asset: "cash.usd") : nil))
                }
            }
            try await log(store, ProfileState.prepareActivities(events, invalid: [:], now: monday + 100 * day).entry)
        }
        let activeRequest = Retain_V1_GetActiveUsersRequest(range: range(days: 60), byChannel: true)
        let funnelRequest = Retain_V1_GetFunnelRequest(registered: range(days: 1), byChannel: true)
        let asOf = monday + 100 * day
        let before: (Retain_V1_GetActiveUsersResponse, Retain_V1_GetFunnelResponse)
        do {
            let store = try StateStore<ProfileState>(directory: directory, logger: logger)
            try await log(
                store, try store.read { try $0.planSettings(activityTimeZone: "UTC", activation: .init(minActiveDays: 3, withinDays: 10)) })
            try await fill(store, prefix: "s", days: [0, 1, 2, 4, 9, 20, 33])
            #expect(try store.snapshot() != nil)
            try await fill(store, prefix: "t", days: [1, 3, 4, 5, 40, 41])
            before = try store.read { (try $0.activeUsers(activeRequest, asOf: asOf), try $0.funnel(funnelRequest, asOf: asOf)) }
            store.close()
        }
        #expect(before.0.days.first { $0.allChannels && $0.dayStartMs == monday + day }?.dau == 40)
        #expect(before.1.rows[0].registered == 60)
        #expect(before.1.activation?.minActiveDays == 3)
        let reopened = try StateStore<ProfileState>(directory: directory, logger: logger)
        let after = try reopened.read { (try $0.activeUsers(activeRequest, asOf: asOf), try $0.funnel(funnelRequest, asOf: asOf)) }
        #expect(after.0 == before.0)
        #expect(after.1 == before.1)
        reopened.close()
    }
}
