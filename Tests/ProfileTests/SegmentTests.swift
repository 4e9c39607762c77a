@testable import ProfileCore
import RetainProto
import RetainWire
import Testing

@Suite("segments and churn warnings")
struct SegmentTests {
    /// Ten users: u0...u9, channel ads for even, organic for odd; tag "vip" on multiples of 3;
    /// attribute score = n; age 20 + n; u0...u4 active daily for 40 days, the rest idle.
    func population() throws -> ProfileFixture {
        var fixture = ProfileFixture()
        for number in 0..<10 {
            try fixture.register(
                "u\(number)", channel: number % 2 == 0 ? "ads" : "organic",
                tags: number % 3 == 0 ? ["vip"] : ["basic"], attributes: ["score": "\(number)"],
                age: UInt32(20 + number), region: number < 5 ? "cn-sh" : "de-be")
            if number < 5 { try fixture.active("u\(number)", days: 0..<40) }
        }
        return fixture
    }

    func count(_ fixture: ProfileFixture, _ filter: Retain_V1_SegmentFilter, day number: Int = 40) -> UInt64 {
        fixture.state.countSegment(filter, asOf: monday + Int64(number) * day, evaluator: fixture.evaluator)
    }

    @Test("conditions combine with AND; lists inside one condition are alternatives")
    func conditions() throws {
        let fixture = try population()
        #expect(count(fixture, Retain_V1_SegmentFilter()) == 10)
        #expect(count(fixture, Retain_V1_SegmentFilter(channels: ["ads"])) == 5)
        #expect(count(fixture, Retain_V1_SegmentFilter(channels: ["ads", "organic"])) == 10)
        #expect(count(fixture, Retain_V1_SegmentFilter(channels: ["unknown"])) == 0)
        #expect(count(fixture, Retain_V1_SegmentFilter(tagsAll: ["vip"])) == 4)
        #expect(count(fixture, Retain_V1_SegmentFilter(tagsAll: ["vip", "basic"])) == 0)
        #expect(count(fixture, Retain_V1_SegmentFilter(tagsAny: ["vip", "basic"])) == 10)
        #expect(count(fixture, Retain_V1_SegmentFilter(tagsNone: ["vip"])) == 6)
        #expect(count(fixture, Retain_V1_SegmentFilter(channels: ["ads"], tagsAll: ["vip"])) == 2, "u0 and u6")
        #expect(
            count(fixture, Retain_V1_SegmentFilter(attributesEqual: [Retain_V1_AttributeEquals(key: "score", values: ["1", "2"])])) == 2)
        #expect(
            count(
                fixture,
                Retain_V1_SegmentFilter(attributeRanges: [
                    Retain_V1_AttributeRange(key: "score", hasMin: true, minValue: 2.5, hasMax: true, maxValue: 7)
                ])) == 5)
        #expect(count(fixture, Retain_V1_SegmentFilter(regions: ["de-be"])) == 5)
        #expect(count(fixture, Retain_V1_SegmentFilter(minAge: 25, maxAge: 26)) == 2)
        #expect(count(fixture, Retain_V1_SegmentFilter(stages: [.active])) == 5)
        #expect(count(fixture, Retain_V1_SegmentFilter(stages: [.churned])) == 5)
        #expect(count(fixture, Retain_V1_SegmentFilter(stages: [.new]), day: 3) == 10, "stages as of day 3")
        let lastActive = Retain_V1_TimeRange(startMs: monday + 39 * day, endMs: monday + 40 * day)
        #expect(count(fixture, Retain_V1_SegmentFilter(lastActive: lastActive)) == 5)
        let registered = Retain_V1_TimeRange(startMs: monday, endMs: monday + 1)
        #expect(count(fixture, Retain_V1_SegmentFilter(registered: registered)) == 10)
    }

    @Test("lists page by user id with a token bound to the filters")
    func paging() throws {
        let fixture = try population()
        let filter = Retain_V1_SegmentFilter(channels: ["ads", "organic"])
        var ids: [String] = []
        var token = ""
        repeat {
            let page = try fixture.state.listSegment(
                filter, pageSize: 3, pageToken: token, asOf: nil, now: monday + 40 * day,
                evaluator: fixture.evaluator)
            #expect(page.pageInfo?.total == 10)
            ids += page.users.map(\.userId)
            token = page.pageInfo?.nextPageToken ?? ""
        } while !token.isEmpty
        #expect(ids == (0..<10).map { "u\($0)" })
        let first = try fixture.state.listSegment(
            filter, pageSize: 3, pageToken: "", asOf: nil, now: monday,
            evaluator: fixture.evaluator)
        let foreign = rpcError {
            _ = try fixture.state.listSegment(
                Retain_V1_SegmentFilter(channels: ["ads"]), pageSize: 3,
                pageToken: first.pageInfo!.nextPageToken, asOf: nil, now: monday,
                evaluator: fixture.evaluator)
        }
        #expect(foreign?.details["field"] == "page.page_token")
        let malformed = rpcError {
            _ = try fixture.state.listSegment(
                filter, pageSize: 3, pageToken: "garbage", asOf: nil, now: monday,
                evaluator: fixture.evaluator)
        }
        #expect(malformed?.code == .invalidArgument)
    }

    @Test("churn warnings list users at risk, largest drop first, filtered and paged")
    func churnWarnings() throws {
        var fixture = ProfileFixture()
        for (name, channel, lastDays) in [("mild", "ads", [36, 37, 39, 40]), ("sharp", "ads", [40]), ("other", "organic", [38])] {
            try fixture.register(name, channel: channel)
            try fixture.active(name, days: 0..<35, perDay: 2)
            try fixture.active(name, days: lastDays)
        }
        try fixture.register("fine")
        try fixture.active("fine", days: 0..<42, perDay: 2)
        let asOf = monday + 41 * day
        let all = try fixture.state.churnWarnings(
            channels: [], minimumDrop: 0, pageSize: 10, pageToken: "", asOf: asOf,
            now: asOf, evaluator: fixture.evaluator)
        #expect(all.warnings.map(\.userId) == ["other", "sharp", "mild"])
        #expect(all.warnings.first?.drop ?? 0 > all.warnings.last?.drop ?? 1)
        #expect(all.warnings.allSatisfy { $0.reason != .unspecified && !$0.reasonText.isEmpty })
        let ads = try fixture.state.churnWarnings(
            channels: ["ads"], minimumDrop: 0, pageSize: 1, pageToken: "", asOf: asOf,
            now: asOf, evaluator: fixture.evaluator)
        #expect(ads.warnings.map(\.userId) == ["sharp"])
        #expect(ads.pageInfo?.total == 2)
        let next = try fixture.state.churnWarnings(
            channels: ["ads"], minimumDrop: 0, pageSize: 1,
            pageToken: ads.pageInfo!.nextPageToken, asOf: nil, now: asOf + day,
            evaluator: fixture.evaluator)
        #expect(next.warnings.map(\.userId) == ["mild"])
        #expect(next.pageInfo?.nextPageToken == "")
        let strong = try fixture.state.churnWarnings(
            channels: [], minimumDrop: 0.9, pageSize: 10, pageToken: "", asOf: asOf,
            now: asOf, evaluator: fixture.evaluator)
        #expect(strong.warnings.allSatisfy { $0.drop >= 0.9 })
    }

    @Test("churn risk is judged on complete days: a steady user asked in the morning, before today's visit, is not at risk")
    func churnWindowExcludesToday() throws {
        var fixture = ProfileFixture()
        try fixture.register("steady")
        try fixture.active("steady", days: 0..<35, perDay: 2)
        try fixture.active("steady", days: 35...41, perDay: 1)
        let morning = monday + 42 * day + 8 * 3_600_000
        let warnings = try fixture.state.churnWarnings(
            channels: [], minimumDrop: 0, pageSize: 10, pageToken: "",
            asOf: morning, now: morning, evaluator: fixture.evaluator)
        #expect(warnings.warnings.isEmpty, "today's visit may still come: today does not count as a day without one")
        let lifecycle = try fixture.state.lifecycle(fixture.state.userIndex("steady")!, asOf: morning, evaluator: fixture.evaluator)
        #expect(lifecycle.stage == .active)
        #expect(lifecycle.recentRate == 1, "7 events over the 7 complete days 35...41")
        #expect(lifecycle.recentActiveDays == 7)

        var fading = ProfileFixture()
        try fading.register("fading")
        try fading.active("fading", days: 0..<35, perDay: 2)
        try fading.active("fading", days: [36], perDay: 1)
        let atRisk = try fading.state.churnWarnings(
            channels: [], minimumDrop: 0, pageSize: 10, pageToken: "",
            asOf: morning, now: morning, evaluator: fading.evaluator)
        #expect(atRisk.warnings.map(\.userId) == ["fading"], "a real drop over complete days is still a warning")
    }

    @Test("last_active honours as_of: a user active since then is matched and shown by the activity before as_of")
    func lastActiveAsOf() throws {
        var fixture = ProfileFixture()
        try fixture.register("back")
        try fixture.active("back", days: [0, 10])
        let asOf = monday + 5 * day
        let earlyDays = Retain_V1_SegmentFilter(lastActive: Retain_V1_TimeRange(startMs: monday, endMs: monday + day))
        #expect(
            fixture.state.countSegment(earlyDays, asOf: asOf, evaluator: fixture.evaluator) == 1,
            "as of day 5 the latest activity is day 0's")
        let later = Retain_V1_SegmentFilter(lastActive: Retain_V1_TimeRange(startMs: monday + day, endMs: 0))
        #expect(
            fixture.state.countSegment(later, asOf: asOf, evaluator: fixture.evaluator) == 0,
            "day 10's activity had not happened as of day 5")
        let page = try fixture.state.listSegment(
            earlyDays, pageSize: 10, pageToken: "", asOf: asOf, now: monday + 20 * day,
            evaluator: fixture.evaluator)
        #expect(page.users.map(\.lastActiveMs) == [monday], "the start of day 0: the summary keeps days, not times")
        #expect(fixture.state.countSegment(later, asOf: monday + 20 * day, evaluator: fixture.evaluator) == 1)
    }
}

@Suite("retention")
struct RetentionTests {
    func request(
        days: [UInt32] = [1, 7, 30], granularity: Retain_V1_CohortGranularity = .day, from: Int64 = monday,
        to: Int64 = monday + 3 * day, byChannel: Bool = false, channels: [String] = []
    ) -> Retain_V1_GetRetentionRequest {
        Retain_V1_GetRetentionRequest(
            granularity: granularity, registered: Retain_V1_TimeRange(startMs: from, endMs: to),
            channels: channels, byChannel: byChannel, days: days)
    }

    @Test("day cohorts count users active on their own day N, with rates, completeness and empty cohorts")
    func dayCohorts() throws {
        var fixture = ProfileFixture()
        try fixture.register("a", at: monday + 1000, channel: "ads")
        try fixture.register("b", at: monday + 2000, channel: "organic")
        try fixture.register("c", at: monday + 2 * day, channel: "ads")
        try fixture.active("a", days: [1, 7])
        try fixture.active("b", days: [1, 30])
        try fixture.active("c", days: [3])
        let report = try fixture.state.retention(request(), days: [1, 7, 30], asOf: monday + 40 * day)
        #expect(report.cohorts.count == 3)
        let first = report.cohorts[0]
        #expect(first.cohortStartMs == monday)
        #expect(first.newUsers == 2)
        #expect(first.cells.map(\.retained) == [2, 1, 1])
        #expect(first.cells.map(\.rate) == [1, 0.5, 0.5])
        #expect(first.cells.allSatisfy { $0.complete })
        #expect(report.cohorts[1].newUsers == 0, "an empty cohort is reported")
        #expect(report.cohorts[1].cells.map(\.rate) == [0, 0, 0])
        #expect(report.cohorts[2].cells.map(\.retained) == [1, 0, 0])
        #expect(report.newUsersByChannel.map(\.channel) == ["ads", "organic"])
        #expect(report.newUsersByChannel.map(\.newUsers) == [2, 1])

        let early = try fixture.state.retention(request(), days: [1, 7, 30], asOf: monday + 5 * day)
        #expect(early.cohorts[0].cells.map(\.complete) == [true, false, false])
        #expect(early.cohorts[0].cells.map(\.retained) == [2, 0, 0], "activity after as_of is ignored")
    }

    @Test("day N counts only once it is over: a return later on the as_of day is not counted before then")
    func dayNCountsCompleteDays() throws {
        var fixture = ProfileFixture()
        try fixture.register("a", at: monday + 1000)
        try fixture.record([fixture.event("a", at: monday + day + 20 * 3_600_000)])
        let morning = try fixture.state.retention(request(days: [1]), days: [1], asOf: monday + day + 9 * 3_600_000)
        #expect(morning.cohorts[0].cells.map(\.retained) == [0], "day 1 is not over at 09:00; the 20:00 login is still to come")
        #expect(morning.cohorts[0].cells.map(\.complete) == [false])
        let next = try fixture.state.retention(request(days: [1]), days: [1], asOf: monday + 2 * day)
        #expect(next.cohorts[0].cells.map(\.retained) == [1])
        #expect(next.cohorts[0].cells.map(\.complete) == [true])
    }

    @Test("week cohorts and per-channel rows")
    func weekCohortsByChannel() throws {
        var fixture = ProfileFixture()
        try fixture.register("a", at: monday + 1000, channel: "ads")
        try fixture.register("b", at: monday + 6 * day, channel: "organic")
        try fixture.register("c", at: monday + 8 * day, channel: "ads")
        try fixture.active("a", days: [1])
        try fixture.active("b", days: [7])
        let report = try fixture.state.retention(
            request(days: [1], granularity: .week, from: monday + 3 * day, to: monday + 10 * day, byChannel: true),
            days: [1], asOf: monday + 20 * day)
        #expect(report.cohorts.map(\.cohortStartMs) == [monday, monday, monday, monday + 7 * day, monday + 7 * day, monday + 7 * day])
        #expect(report.cohorts.map(\.channel) == ["", "ads", "organic", "", "ads", "organic"])
        #expect(report.cohorts.map(\.newUsers) == [1, 0, 1, 1, 1, 0], "a registered before the range")
        #expect(report.cohorts[2].cells.first?.retained == 1)
    }

    @Test("more than 366 cohorts, or another time zone than the activity zone, is INVALID_ARGUMENT")
    func limits() {
        let state = ProfileState()
        let tooMany = rpcError {
            _ = try state.retention(request(to: monday + 400 * day), days: [1], asOf: monday)
        }
        #expect(tooMany?.details["field"] == "registered")
        var zoned = request()
        zoned.timeZone = "Asia/Shanghai"
        #expect(rpcError { _ = try state.retention(zoned, days: [1], asOf: monday) }?.details["field"] == "time_zone")
    }
}
