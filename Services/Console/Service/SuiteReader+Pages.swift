import ConsoleCore
import RetainProto
import RetainRPC
import RetainWire

/// The calls behind each page, made concurrently.
extension SuiteReader {
    static let dayMs: Int64 = 86_400_000

    /// The Overview over the `days` complete days before today, and today so far.
    func overview(days: Int, channel: String, nowMs: Int64) async -> OverviewPage {
        let end = (nowMs / Self.dayMs + 1) * Self.dayMs
        let start = end - Int64(days + 1) * Self.dayMs
        async let total = call(Retain_V1_Profile.countSegment, Retain_V1_CountSegmentRequest(filter: .init()), scope: "profile:read")
        async let retention = call(
            Retain_V1_Profile.getRetention,
            Retain_V1_GetRetentionRequest(
                granularity: .day, registered: .init(startMs: start, endMs: end), byChannel: true, days: OverviewPage.retentionDays,
                timeZone: "UTC"), scope: "profile:read")
        async let stages = stageCounts()
        async let churn = call(
            Retain_V1_Profile.listChurnWarnings, Retain_V1_ListChurnWarningsRequest(page: .init(pageSize: 20)), scope: "profile:read")
        async let active = call(
            Retain_V1_Profile.getActiveUsers,
            Retain_V1_GetActiveUsersRequest(range: .init(startMs: start, endMs: end), timeZone: "UTC"), scope: "profile:read")
        return await OverviewPage(
            totalUsers: total.map(\.count), retention: retention, stages: stages, churn: churn, channel: channel, days: days,
            activeUsers: active)
    }

    /// Users per lifecycle stage: one CountSegment per stage, concurrently.
    func stageCounts() async -> Loaded<[UInt64]> {
        await withTaskGroup(of: (Int, Loaded<Retain_V1_CountSegmentResponse>).self) { group in
            for (index, stage) in Names.stages.enumerated() {
                group.addTask {
                    (index, await call(Retain_V1_Profile.countSegment, .init(filter: .init(stages: [stage])), scope: "profile:read"))
                }
            }
            var counts = Array(repeating: UInt64(0), count: Names.stages.count)
            var problem: Loaded<[UInt64]>?
            for await (index, answer) in group {
                switch answer {
                case .value(let value): counts[index] = value.count
                case .denied(let scope): problem = .denied(scope: scope)
                case .failed(let message): problem = .failed(message)
                }
            }
            return problem ?? .value(counts)
        }
    }

    /// The funnel of the users registered in the last `weeks` ISO weeks, by channel and cohort.
    func funnel(weeks: Int, nowMs: Int64) async -> FunnelPage {
        let funnel = await call(
            Retain_V1_Profile.getFunnel,
            Retain_V1_GetFunnelRequest(
                granularity: .week, registered: FunnelPage.range(weeks: weeks, nowMs: nowMs), byChannel: true, timeZone: "UTC"),
            scope: "profile:read")
        return FunnelPage(funnel: funnel, weeks: weeks)
    }

    /// One user's page.
    func user(_ userID: String, nowMs: Int64) async -> UserPage {
        let (year, _, _) = Format.civil(nowMs)
        let yearStart = Format.startOfDay(year: year, month: 1, day: 1)
        async let profile = call(Retain_V1_Profile.getProfile, .init(userId: userID), scope: "profile:read")
        async let growth = call(Retain_V1_Growth.getGrowthView, .init(userId: userID), scope: "growth:read")
        async let growthYear = call(
            Retain_V1_Growth.getGrowthSummary, .init(userId: userID, range: .init(startMs: yearStart, endMs: nowMs + 1)),
            scope: "growth:read")
        async let balance = call(Retain_V1_Ledger.getBalance, .init(userId: userID, includeLots: true), scope: "ledger:read")
        async let statement = call(
            Retain_V1_Ledger.getStatement, .init(userId: userID, page: .init(pageSize: 50)), scope: "ledger:read")
        async let yearly = call(
            Retain_V1_Ledger.getYearlySummary, .init(userId: userID, year: Int32(year), timeZone: "UTC"), scope: "ledger:read")
        async let feedback = call(
            Retain_V1_Feedback.getUserFeedbackHistory, .init(userId: userID, openLimit: 20), scope: "feedback:read")
        async let report = call(
            Retain_V1_Gateway.getUserReport, .init(userId: userID, period: .month, timeZone: "UTC", allowPartial: true),
            scope: "gateway:read")
        return await UserPage(
            userID: userID, profile: profile, growth: growth, growthYear: growthYear, balance: balance, statement: statement,
            year: yearly, feedback: feedback, report: report)
    }

    /// The feedback desk: open items by priority, and the statistics.
    func feedbackDesk(nowMs: Int64) async -> FeedbackDeskPage {
        let open: [Retain_V1_FeedbackStatus] = [.new, .triaged, .assigned, .inProgress, .reopened]
        async let queue = call(
            Retain_V1_Feedback.listFeedback,
            Retain_V1_ListFeedbackRequest(filter: .init(statuses: open), sort: .priority, page: .init(pageSize: 100)),
            scope: "feedback:read")
        async let stats = call(Retain_V1_Feedback.getFeedbackStats, Retain_V1_GetFeedbackStatsRequest(), scope: "feedback:read")
        return await FeedbackDeskPage(queue: queue, stats: stats, nowMs: nowMs)
    }

    /// Levels: users per tier with the tiers in force (one call, summed over every Growth shard
    /// by the gateway), and the registered users, now or as of the end of a day.
    func levels(asOfMs: Int64?) async -> LevelsPage {
        async let distribution = call(
            Retain_V1_Growth.getLevelDistribution, Retain_V1_GetLevelDistributionRequest(asOfMs: asOfMs.map { $0 - 1 } ?? 0),
            scope: "growth:read")
        var filter = Retain_V1_SegmentFilter()
        if let asOfMs { filter.registered = .init(endMs: asOfMs) }
        async let registered = call(
            Retain_V1_Profile.countSegment, Retain_V1_CountSegmentRequest(filter: filter, asOfMs: asOfMs.map { $0 - 1 } ?? 0),
            scope: "profile:read")
        return await LevelsPage(distribution: distribution, registered: registered.map(\.count), asOfMs: asOfMs)
    }

    /// The ledger's audit of points, with the chain recomputed when `verify`, and the points'
    /// flows per `period` over the recent periods.
    func ledger(verify: Bool, period: Retain_V1_SummaryPeriod, nowMs: Int64) async -> LedgerPage {
        async let audit = call(
            Retain_V1_Ledger.audit, Retain_V1_AuditRequest(verifyChain: verify, assets: ["points"]), scope: "ledger:read")
        async let periods = call(
            Retain_V1_Ledger.getPeriodTotals,
            Retain_V1_GetPeriodTotalsRequest(
                range: LedgerPage.range(period, nowMs: nowMs), period: period, timeZone: "UTC", assets: ["points"]),
            scope: "ledger:read")
        return await LedgerPage(audit: audit, verifiedChain: verify, periods: periods, period: period)
    }

    /// Live configuration of `service`: every version with its document, one call.
    func rules(service: String, compare: (UInt64, UInt64)?, nowMs: Int64) async -> RulesPage {
        let versions = await call(
            Retain_V1_RuleSets.listRuleSetVersions, Retain_V1_ListRuleSetVersionsRequest(service: service, includeDocuments: true))
        return RulesPage(service: service, versions: versions, compare: compare, nowMs: nowMs)
    }

    /// Saved segments: the list, then for the one chosen its count now, as of the end of the day
    /// asked (when one was) and its first page of members, concurrently.
    func segments(name: String?, asOfMs: Int64?) async -> SegmentsPage {
        let list = await call(Retain_V1_Profile.listSavedSegments, Retain_V1_ListSavedSegmentsRequest(), scope: "profile:read")
        guard let value = list.value, let chosen = SegmentsPage.choose(value, asked: name) else {
            return SegmentsPage(list: list, chosen: nil)
        }
        let asOf = asOfMs.map { $0 - 1 } ?? 0
        async let now = call(Retain_V1_Gateway.countSavedSegment, .init(name: chosen), scope: "gateway:read")
        async let then =
            asOfMs == nil
            ? nil : call(Retain_V1_Gateway.countSavedSegment, .init(name: chosen, asOfMs: asOf), scope: "gateway:read")
        async let members = call(
            Retain_V1_Gateway.listSavedSegmentMembers, .init(name: chosen, asOfMs: asOf, page: .init(pageSize: SegmentsPage.pageSize)),
            scope: "gateway:read")
        return await SegmentsPage(list: list, chosen: chosen, countNow: now, countAsOf: then, asOfMs: asOfMs, members: members)
    }

    /// The recall campaigns, with the results of the newest ones read concurrently.
    func campaigns() async -> CampaignsPage {
        let list = await call(Retain_V1_Profile.listCampaigns, Retain_V1_ListCampaignsRequest(), scope: "profile:read")
        guard let value = list.value else { return CampaignsPage(campaigns: list, results: [:]) }
        let results = await withTaskGroup(of: (String, Loaded<Retain_V1_GetCampaignResultsResponse>).self) { group in
            for id in CampaignsPage.shown(value) {
                group.addTask { (id, await call(Retain_V1_Profile.getCampaignResults, .init(campaignId: id), scope: "profile:read")) }
            }
            var results: [String: Loaded<Retain_V1_GetCampaignResultsResponse>] = [:]
            for await (id, answer) in group { results[id] = answer }
            return results
        }
        return CampaignsPage(campaigns: list, results: results)
    }
}
