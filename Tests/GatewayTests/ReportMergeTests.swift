import GatewayCore
import RetainProto
import Testing

/// Each merge rule of docs/CLUSTER.md on hand-made shard answers: the merged answer is the one
/// a single instance holding every shard's users gives.
@Suite("Merging shards' reports")
struct ReportMergeTests {
    @Test("CountSegment: counts add up")
    func counts() {
        #expect(ReportMerge.countSegment([.init(count: 3), .init(count: 0), .init(count: 39)]).count == 42)
        #expect(ReportMerge.countSegment([]).count == 0)
    }

    private func cell(_ day: UInt32, _ retained: UInt64, _ newUsers: UInt64, complete: Bool = true) -> Retain_V1_RetentionCell {
        Retain_V1_RetentionCell(
            day: day, retained: retained, rate: newUsers > 0 ? Double(retained) / Double(newUsers) : 0, complete: complete)
    }

    @Test("GetRetention: new and retained users add per cohort, channel and day; rates from the sums; rows and channel totals in order")
    func retention() {
        let a = Retain_V1_GetRetentionResponse(
            cohorts: [
                .init(cohortStartMs: 0, channel: "", newUsers: 4, cells: [cell(1, 2, 4), cell(7, 1, 4)]),
                .init(cohortStartMs: 0, channel: "organic", newUsers: 4, cells: [cell(1, 2, 4), cell(7, 1, 4)]),
                .init(cohortStartMs: 86_400_000, channel: "", newUsers: 0, cells: [cell(1, 0, 0), cell(7, 0, 0, complete: false)]),
            ], newUsersByChannel: [.init(channel: "organic", newUsers: 4)])
        let b = Retain_V1_GetRetentionResponse(
            cohorts: [
                .init(cohortStartMs: 0, channel: "", newUsers: 2, cells: [cell(1, 1, 2), cell(7, 0, 2)]),
                .init(cohortStartMs: 0, channel: "ads", newUsers: 2, cells: [cell(1, 1, 2), cell(7, 0, 2)]),
                .init(cohortStartMs: 86_400_000, channel: "", newUsers: 1, cells: [cell(1, 1, 1), cell(7, 0, 1)]),
            ], newUsersByChannel: [.init(channel: "ads", newUsers: 3)])
        let merged = ReportMerge.retention([a, b])
        #expect(merged.cohorts.map(\.channel) == ["", "ads", "organic", ""])
        #expect(merged.cohorts.map(\.newUsers) == [6, 2, 4, 1])
        #expect(merged.cohorts[0].cells.map(\.retained) == [3, 1])
        #expect(merged.cohorts[0].cells.map(\.rate) == [0.5, 1.0 / 6])
        // Shard a has no users in the second cohort: its "not complete" (judged by the cohort's
        // last day) has no say; shard b's users decide.
        #expect(merged.cohorts[3].cells.map(\.complete) == [true, true])
        #expect(merged.cohorts[3].cells.map(\.rate) == [1, 0])
        #expect(merged.newUsersByChannel.map(\.channel) == ["organic", "ads"])
        let tie = ReportMerge.retention([b, Retain_V1_GetRetentionResponse(newUsersByChannel: [.init(channel: "organic", newUsers: 3)])])
        #expect(tie.newUsersByChannel.map(\.channel) == ["ads", "organic"], "equal totals: by name")
        // A row with users on both shards is complete only when it is on both.
        let late = Retain_V1_GetRetentionResponse(cohorts: [
            .init(cohortStartMs: 0, channel: "", newUsers: 1, cells: [cell(1, 0, 1, complete: false), cell(7, 0, 1, complete: false)])
        ])
        #expect(ReportMerge.retention([a, late]).cohorts[0].cells.map(\.complete) == [false, false])
    }

    @Test(
        "GetActiveUsers and GetFunnel: counts add per (day, row), the all-channel row apart from users without a channel; rates from the sums"
    )
    func activeUsersAndFunnel() {
        let a = Retain_V1_GetActiveUsersResponse(days: [
            .init(dayStartMs: 0, allChannels: true, dau: 3, wau: 5, mau: 9, complete: true),
            .init(dayStartMs: 0, channel: "", dau: 1, wau: 1, mau: 1, complete: true),
            .init(dayStartMs: 0, channel: "organic", dau: 2, wau: 4, mau: 8, complete: true),
        ])
        let b = Retain_V1_GetActiveUsersResponse(days: [
            .init(dayStartMs: 0, allChannels: true, dau: 1, wau: 2, mau: 2, complete: true),
            .init(dayStartMs: 0, channel: "ads", dau: 1, wau: 2, mau: 2, complete: true),
        ])
        let merged = ReportMerge.activeUsers([a, b])
        #expect(merged.days.map(\.channel) == ["", "", "ads", "organic"])
        #expect(merged.days.map(\.allChannels) == [true, false, false, false])
        #expect(merged.days[0].dau == 4 && merged.days[0].wau == 7 && merged.days[0].mau == 11)

        let funnelA = Retain_V1_GetFunnelResponse(
            rows: [.init(cohortStartMs: 0, allChannels: true, registered: 4, activated: 2, purchased: 1, purchasedNotActivated: 1)],
            activation: .init(minActiveDays: 2, withinDays: 7))
        let funnelB = Retain_V1_GetFunnelResponse(
            rows: [.init(cohortStartMs: 0, allChannels: true, registered: 6, activated: 2, purchased: 0)],
            activation: .init(minActiveDays: 2, withinDays: 7))
        let funnel = ReportMerge.funnel([funnelA, funnelB])
        #expect(funnel.rows.count == 1)
        #expect((funnel.rows[0].registered, funnel.rows[0].activated, funnel.rows[0].purchased) == (10, 4, 1))
        #expect(funnel.rows[0].activationRate == 0.4 && funnel.rows[0].purchaseRate == 0.25)
        #expect(funnel.rows[0].purchasedNotActivated == 1)
        #expect(funnel.activation?.withinDays == 7)
    }

    @Test("GetExperimentResults: assigned and converted users add per variant; rates, lift and the interval from the sums")
    func experimentResults() {
        var a = Retain_V1_GetExperimentResultsResponse(
            experimentId: "e", metricKind: "purchase", controlVariant: "a",
            variants: [.init(variant: "a", assigned: 100, converted: 10), .init(variant: "b", assigned: 100, converted: 20)])
        a.computeStatistics()
        var b = Retain_V1_GetExperimentResultsResponse(
            experimentId: "e", metricKind: "purchase", controlVariant: "a",
            variants: [.init(variant: "b", assigned: 100, converted: 30), .init(variant: "a", assigned: 100, converted: 10)])
        b.computeStatistics()
        let merged = ReportMerge.experimentResults([a, b])
        #expect(merged.variants.map(\.variant) == ["a", "b"])
        #expect(merged.variants.map(\.assigned) == [200, 200] && merged.variants.map(\.converted) == [20, 50])
        #expect(abs(merged.variants[1].difference - 0.15) < 1e-12 && abs(merged.variants[1].lift - 1.5) < 1e-12)
        let margin = 1.959964 * (0.25 * 0.75 / 200 + 0.1 * 0.9 / 200).squareRoot()
        #expect(abs(merged.variants[1].differenceCiLow - (0.15 - margin)) < 1e-12)
        #expect(merged.variants[1].significant)
    }

    @Test("GetLeaderboard: top N merged by score, time reached, user; competition ranks over the merged board")
    func leaderboard() {
        func entry(_ user: String, _ score: Int64, _ at: Int64) -> Retain_V1_LeaderboardEntry {
            Retain_V1_LeaderboardEntry(rank: 0, userId: user, score: score, level: 1, reachedAtMs: at)
        }
        let a = Retain_V1_GetLeaderboardResponse(entries: [entry("a1", 90, 5), entry("a2", 50, 1), entry("a3", 40, 1)], totalUsers: 7)
        let b = Retain_V1_GetLeaderboardResponse(entries: [entry("b1", 90, 3), entry("b2", 50, 1), entry("b3", 10, 1)], totalUsers: 5)
        let merged = ReportMerge.leaderboard([a, b], limit: 5)
        #expect(merged.entries.map(\.userId) == ["b1", "a1", "a2", "b2", "a3"])
        #expect(merged.entries.map(\.rank) == [1, 1, 3, 3, 5])
        #expect(merged.totalUsers == 12)
        #expect(ReportMerge.leaderboard([a, b], limit: 1).entries.map(\.userId) == ["b1"])
        #expect(ReportMerge.leaderboardLimit(.init()) == 10)
    }

    @Test("GetFeedbackStats: counts add up per team and priority and per kind; rate and mean from the sums; weighted median")
    func feedbackStats() {
        let a = Retain_V1_GetFeedbackStatsResponse(
            openByTeam: [
                .init(team: "billing", priority: .urgent, count: 2, overdue: 1), .init(team: "support", priority: .routine, count: 1),
            ],
            openTotal: 3, overdueTotal: 1, resolvedCount: 3, breachedCount: 1, slaBreachRate: 1.0 / 3, meanTimeToResolveMs: 10,
            medianTimeToResolveMs: 10,
            submittedByKind: [.init(kind: .suggestion, total: 1, openCount: 1), .init(kind: .complaint, total: 2, doneCount: 2)],
            totalTimeToResolveMs: 31)
        let b = Retain_V1_GetFeedbackStatsResponse(
            openByTeam: [
                .init(team: "billing", priority: .urgent, count: 1),
                .init(team: "billing", priority: .urgentImportant, count: 4, overdue: 4),
            ],
            openTotal: 5, overdueTotal: 4, resolvedCount: 1, breachedCount: 1, slaBreachRate: 1, meanTimeToResolveMs: 100,
            medianTimeToResolveMs: 100,
            submittedByKind: [.init(kind: .suggestion, total: 3, doneCount: 3), .init(kind: .complaint)],
            totalTimeToResolveMs: 100)
        let merged = ReportMerge.feedbackStats([a, b])
        #expect(
            merged.openByTeam.map { "\($0.team)/\($0.priority.rawValue)=\($0.count)/\($0.overdue)" }
                == ["billing/1=4/4", "billing/3=3/1", "support/4=1/0"])
        #expect(merged.openTotal == 8 && merged.overdueTotal == 5)
        #expect(merged.resolvedCount == 4 && merged.breachedCount == 2 && merged.slaBreachRate == 0.5)
        #expect(merged.totalTimeToResolveMs == 131 && merged.meanTimeToResolveMs == 32)
        #expect(merged.medianTimeToResolveMs == 10, "three of four resolutions have the median 10")
        #expect(merged.submittedByKind.map(\.total) == [4, 2] && merged.submittedByKind.map(\.doneCount) == [3, 2])
        #expect(ReportMerge.feedbackStats([.init()]).slaBreachRate == 0)
    }

    @Test("GetFaq: groups merge by id across shards, min_asks applies to the sums, order by asks then latest then id")
    func faq() throws {
        func group(_ id: String, _ asks: UInt32, _ last: Int64, question: String, items: [String]) -> Retain_V1_FaqEntry {
            Retain_V1_FaqEntry(
                groupId: id, category: "c", question: question, answer: "ans-\(question)", askCount: asks,
                lastAskedMs: last, itemIds: items)
        }
        let a = [group("g1", 1, 100, question: "old", items: ["i1"]), group("g2", 2, 50, question: "g2", items: ["i2", "i3"])]
        let b = [group("g1", 2, 200, question: "new", items: ["i4", "i5"]), group("g3", 1, 10, question: "g3", items: ["i6"])]
        let merged = ReportMerge.faq([a, b], minAsks: 2)
        #expect(merged.map(\.groupId) == ["g1", "g2"], "g3 has one ask in all")
        #expect(merged[0].askCount == 3 && merged[0].question == "new" && merged[0].answer == "ans-new" && merged[0].lastAskedMs == 200)
        #expect(merged[0].itemIds == ["i4", "i5", "i1"])
        #expect(ReportMerge.faq([a, b], minAsks: 0).map(\.groupId) == ["g1", "g2", "g3"])

        let all = ReportMerge.faq([a, b], minAsks: 0)
        let first = try FaqPage.page(all, request: .init(page: .init(pageSize: 2)))
        #expect(first.entries.map(\.groupId) == ["g1", "g2"] && first.pageInfo?.total == 3)
        let token = try #require(first.pageInfo?.nextPageToken)
        let second = try FaqPage.page(all, request: .init(page: .init(pageSize: 2, pageToken: token)))
        #expect(second.entries.map(\.groupId) == ["g3"] && second.pageInfo?.nextPageToken == "")
        #expect(throws: ShardMergeError.invalidPageToken("the page token was issued for other filters")) {
            _ = try FaqPage.page(all, request: .init(minAsks: 2, page: .init(pageSize: 2, pageToken: token)))
        }
        #expect(throws: ShardMergeError.invalidPageToken("malformed page token")) {
            _ = try FaqPage.page(all, request: .init(page: .init(pageToken: "nonsense")))
        }
        #expect(throws: ShardMergeError.invalidPageSize("must be at most 1000, not 1001")) {
            _ = try FaqPage.page(all, request: .init(page: .init(pageSize: 1001)))
        }
    }

    @Test("GetContactPolicy: the highest version answers")
    func contactPolicy() {
        let merged = ReportMerge.contactPolicy([
            .init(policy: .init(version: 2)), .init(policy: .init(version: 3, updatedBy: "b")),
            .init(policy: .init(version: 3, updatedBy: "c")),
        ])
        #expect(merged.policy?.updatedBy == "b")
    }
}
