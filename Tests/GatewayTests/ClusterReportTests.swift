import Foundation
import RetainProcess
import RetainProto
import RetainRPC
import RetainWire
import RetainTestSupport
import Testing

/// One cluster, one answer: the same workload sent to one instance of each service and, through
/// a real gateway, to two or three shards of each gives the same reports (docs/CLUSTER.md).
@Suite("Reports across shards equal one instance's", .serialized)
struct ClusterReportTests {
    static let day: Int64 = 86_400_000
    /// Start of today (UTC): the as-of time of every report.
    static let today = Int64(Date().timeIntervalSince1970 * 1000) / day * day
    static let base = today - 30 * day
    static let users = (0..<60).map { String(format: "cu%03d", $0) }
    static let channels = ["organic", "ads", "social"]

    static func registeredAt(_ index: Int) -> Int64 { base + Int64(index % 15) * day + Int64(index) * 1000 }

    /// The activity events of the workload, with a duplicate and an unknown user's.
    static func events() -> [Retain_V1_ActivityEvent] {
        var events: [Retain_V1_ActivityEvent] = []
        for (index, user) in users.enumerated() {
            let last = 29 - index % 15
            for day in 1..<last where (day + index) % 3 != 0 {
                // Every fifth user goes quiet over the last week: churn warnings.
                if index % 5 == 0, day > last - 8, day != last - 1 { continue }
                let kind = day % 4 == 0 ? "purchase" : "login"
                events.append(
                    Retain_V1_ActivityEvent(
                        userId: user, eventId: "e-\(day)", kind: kind,
                        occurredAtMs: registeredAt(index) + Int64(day) * Self.day + 3_600_000,
                        value: kind == "purchase" ? Retain_V1_Amount(value: 500, asset: "cash.usd") : nil))
            }
        }
        events.insert(events[3], at: 10)
        events.insert(Retain_V1_ActivityEvent(userId: "ghost", eventId: "g-1", kind: "login", occurredAtMs: base), at: 20)
        return events
    }

    /// Sends the workload to `target`: registrations, activity in batches, growth awards,
    /// feedback and resolutions, the contact policy. Returns the batches' answers.
    static func load(_ target: ClusterTarget) async throws -> [Retain_V1_RecordActivitiesResponse] {
        for (index, user) in users.enumerated() {
            _ = try await target.call(
                .profile, Retain_V1_Profile.registerUser,
                .init(
                    userId: user, channel: channels[index % 3], attributes: ["group": "g\(index % 4)"],
                    tags: index % 2 == 0 ? ["vip"] : [], registeredAtMs: registeredAt(index)))
            _ = try await target.call(
                .growth, Retain_V1_Growth.awardGrowth,
                .init(
                    userId: user, action: "sign_up", idempotencyKey: "s-\(user)", occurredAtMs: registeredAt(index)))
            // Distinct scores, but users 10 and 11 tie on score and time (the user id decides).
            let value = Int64(index == 11 ? 11 : index + 1) * 100
            let at = index == 10 || index == 11 ? base + 20 * day : registeredAt(index) + 7_200_000
            _ = try await target.call(
                .growth, Retain_V1_Growth.awardGrowth,
                .init(
                    userId: user, action: "purchase", idempotencyKey: "p-\(user)", value: value, occurredAtMs: at))
            // Large purchases on later days lift every fourth user to Silver, every twelfth to Gold.
            for round in 0..<(index % 12 == 0 ? 3 : index % 4 == 0 ? 1 : 0) {
                _ = try await target.call(
                    .growth, Retain_V1_Growth.awardGrowth,
                    .init(
                        userId: user, action: "purchase", idempotencyKey: "q\(round)-\(user)", value: 100_000,
                        occurredAtMs: registeredAt(index) + Int64(round + 2) * day))
            }
        }
        var batches: [Retain_V1_RecordActivitiesResponse] = []
        let events = events()
        for start in stride(from: 0, to: events.count, by: 400) {
            let batch = Array(events[start..<min(start + 400, events.count)])
            batches.append(try await target.call(.profile, Retain_V1_Profile.recordActivities, .init(events: batch)))
        }
        for (index, user) in users.enumerated() where index % 2 == 0 {
            let question = index % 4 == 0
            let submitted = try await target.call(
                .feedback, Retain_V1_Feedback.submitFeedback,
                .init(
                    userId: user, requestId: "f-\(user)", kind: question ? .question : .complaint,
                    category: question ? "account" : "delivery",
                    text: question ? (index % 8 == 0 ? "How do I reset my password?" : "Where is my order?") : "Complaint number \(index)",
                    urgent: index % 3 == 0, important: index % 6 == 0, submittedAtMs: registeredAt(index) + 5 * 3_600_000))
            if question, index % 8 == 0 || index % 12 == 0 {
                // Through the gateway: the shard that holds the item answers.
                _ = try await target.call(
                    .feedback, Retain_V1_Feedback.resolveFeedback,
                    .init(
                        itemId: submitted.item?.itemId ?? "", actor: "agent", requestId: "r-\(user)", outcome: .answered,
                        answer: index % 8 == 0 ? "Use the reset link" : "It ships tomorrow"))
            }
        }
        _ = try await target.call(
            .profile, Retain_V1_Profile.setContactPolicy,
            .init(
                policy: Retain_V1_ContactPolicy(channels: [.init(channel: .email, enabled: true, maxPerDay: 2, cost: 1)]), actor: "tests"))
        return batches
    }

    /// Every page of a paged list, by `fetch(token)` returning (items, page info).
    static func allPages<Item>(
        _ fetch: (String) async throws -> ([Item], Retain_V1_PageInfo?)
    ) async throws -> (items: [[Item]], total: UInt64) {
        var pages: [[Item]] = []
        var token = ""
        var total: UInt64 = 0
        repeat {
            let (items, info) = try await fetch(token)
            pages.append(items)
            total = info?.total ?? 0
            token = info?.nextPageToken ?? ""
        } while !token.isEmpty && pages.count < 200
        return (pages, total)
    }

    /// The reports compared, with what differs by nature between two instances (server times,
    /// item ids) left out.
    struct Reports: Equatable, CustomStringConvertible {
        var counts: [UInt64] = []
        var segmentPages: [[String]] = []
        var segmentTotal: UInt64 = 0
        var retention: [Retain_V1_GetRetentionResponse] = []
        var churnPages: [[String]] = []
        var churnTotal: UInt64 = 0
        var leaderboards: [Retain_V1_GetLeaderboardResponse] = []
        var levelDistributions: [Retain_V1_GetLevelDistributionResponse] = []
        var feedbackPages: [[String]] = []
        var feedbackTotals: [UInt64] = []
        var overduePages: [[String]] = []
        var faq: [[String]] = []
        var stats: [String] = []
        var policyVersion: UInt64 = 0
        /// Left out of `==` (see ``matches(_:)``).
        var meanTimeToResolveMs: Int64 = 0

        /// Every report but the mean time to resolve.
        static func == (left: Reports, right: Reports) -> Bool {
            left.counts == right.counts && left.segmentPages == right.segmentPages && left.segmentTotal == right.segmentTotal
                && left.retention == right.retention && left.churnPages == right.churnPages && left.churnTotal == right.churnTotal
                && left.leaderboards == right.leaderboards && left.levelDistributions == right.levelDistributions
                && left.feedbackPages == right.feedbackPages
                && left.feedbackTotals == right.feedbackTotals && left.overduePages == right.overduePages && left.faq == right.faq
                && left.stats == right.stats && left.policyVersion == right.policyVersion
        }

        /// Equal, and the mean time to resolve within two minutes (each instance resolved at its clock).
        func matches(_ other: Reports) -> Bool {
            self == other && abs(meanTimeToResolveMs - other.meanTimeToResolveMs) < 120_000
        }

        var description: String {
            "counts \(counts), segment \(segmentTotal) in \(segmentPages.count) pages, churn \(churnTotal) \(churnPages), feedback \(feedbackTotals), faq \(faq), stats \(stats)"
        }
    }

    static func reports(_ target: ClusterTarget) async throws -> Reports {
        var reports = Reports()
        for filter in [
            Retain_V1_SegmentFilter(), .init(channels: ["ads"]), .init(tagsAll: ["vip"]),
            .init(stages: [.active, .churnRisk, .silent]), .init(registered: .init(startMs: base, endMs: base + 5 * day)),
        ] {
            reports.counts.append(
                try await target.call(.profile, Retain_V1_Profile.countSegment, .init(filter: filter, asOfMs: today)).count)
        }
        let segment = try await allPages { token in
            let page = try await target.call(
                .profile, Retain_V1_Profile.listSegment,
                .init(
                    filter: .init(tagsAll: ["vip"]), page: .init(pageSize: 7, pageToken: token), asOfMs: today))
            return (page.users.map { "\($0.userId) \($0.stage.rawValue) \($0.lastActiveMs) \($0.activityCount)" }, page.pageInfo)
        }
        (reports.segmentPages, reports.segmentTotal) = segment
        for granularity in [Retain_V1_CohortGranularity.day, .week] {
            reports.retention.append(
                try await target.call(
                    .profile, Retain_V1_Profile.getRetention,
                    .init(
                        granularity: granularity, registered: .init(startMs: base, endMs: base + 16 * day), byChannel: true,
                        days: [1, 3, 7], asOfMs: today)))
        }
        let churn = try await allPages { token in
            let page = try await target.call(
                .profile, Retain_V1_Profile.listChurnWarnings,
                .init(
                    page: .init(pageSize: 3, pageToken: token), asOfMs: today))
            return (page.warnings.map { "\($0.userId) \($0.reason.rawValue) \($0.drop)" }, page.pageInfo)
        }
        (reports.churnPages, reports.churnTotal) = churn
        for limit in [UInt32(0), 25, 100] {
            reports.leaderboards.append(try await target.call(.growth, Retain_V1_Growth.getLeaderboard, .init(limit: limit)))
        }
        for asOf in [Int64(0), base + 10 * day] {
            reports.levelDistributions.append(
                try await target.call(.growth, Retain_V1_Growth.getLevelDistribution, .init(asOfMs: asOf)))
        }
        for sort in [Retain_V1_FeedbackSort.newest, .oldest, .priority, .due] {
            let list = try await allPages { token in
                let page = try await target.call(
                    .feedback, Retain_V1_Feedback.listFeedback,
                    .init(
                        filter: .init(), sort: sort, page: .init(pageSize: 4, pageToken: token)))
                return (page.items.map { "\($0.userId) \($0.createdAtMs) \($0.status.rawValue) \($0.priority.rawValue)" }, page.pageInfo)
            }
            reports.feedbackPages += list.items
            reports.feedbackTotals.append(list.total)
        }
        let overdue = try await allPages { token in
            let page = try await target.call(.feedback, Retain_V1_Feedback.listOverdue, .init(page: .init(pageSize: 3, pageToken: token)))
            return (page.items.map { "\($0.userId) \($0.dueAtMs)" }, page.pageInfo)
        }
        reports.overduePages = overdue.items
        for minAsks in [UInt32(0), 2] {
            let faq = try await allPages { token in
                let page = try await target.call(
                    .feedback, Retain_V1_Feedback.getFaq, .init(minAsks: minAsks, page: .init(pageSize: 1, pageToken: token)))
                return (
                    page.entries.map { "\($0.groupId) \($0.askCount) \($0.question) \($0.answer) \($0.lastAskedMs) \($0.itemIds.count)" },
                    page.pageInfo
                )
            }
            reports.faq += faq.items
        }
        let stats = try await target.call(.feedback, Retain_V1_Feedback.getFeedbackStats, .init(range: .init(startMs: base), asOfMs: today))
        reports.stats =
            stats.openByTeam.map { "\($0.team) \($0.priority.rawValue) \($0.count) \($0.overdue)" }
            + stats.submittedByKind.map { "\($0.kind.rawValue) \($0.total) \($0.openCount) \($0.doneCount)" }
            + [
                "open \(stats.openTotal) overdue \(stats.overdueTotal) resolved \(stats.resolvedCount) breached \(stats.breachedCount) rate \(stats.slaBreachRate)"
            ]
        // Resolutions happen at each instance's clock, seconds apart: compared within a margin.
        reports.meanTimeToResolveMs = stats.meanTimeToResolveMs
        reports.policyVersion = try await target.call(.profile, Retain_V1_Profile.getContactPolicy, .init()).policy?.version ?? 0
        return reports
    }

    @Test("every report through the gateway over N shards equals one instance's over the same workload", arguments: [2, 3])
    func reportsMatchOneInstance(shards: Int) async throws {
        let cluster = try ShardedCluster(shards: shards)
        do {
            try await cluster.waitUntilServing()
            let referenceBatches = try await Self.load(.reference(cluster))
            let gatewayBatches = try await Self.load(.gateway(cluster))
            // Batches split by owner answer exactly as one instance: outcomes in order, counts, errors.
            #expect(gatewayBatches == referenceBatches)
            #expect(referenceBatches.contains { $0.duplicateCount > 0 } && referenceBatches.contains { !$0.errors.isEmpty })
            let expected = try await Self.reports(.reference(cluster))
            let merged = try await Self.reports(.gateway(cluster))
            #expect(merged.matches(expected), "merged: \(merged)\nexpected: \(expected)")
            #expect(merged.retention == expected.retention)
            #expect(merged.leaderboards == expected.leaderboards)
            // Users per level add up over the shards: every user counted once, more than one level filled.
            #expect(merged.levelDistributions == expected.levelDistributions)
            #expect(expected.levelDistributions[0].users == UInt64(Self.users.count))
            #expect(expected.levelDistributions[0].levels.filter { $0.users > 0 }.count > 1)
            #expect(expected.levelDistributions[1].users < expected.levelDistributions[0].users)
            for index in 0..<shards {
                let part = try await cluster.shard("growth-\(index)").unary(Retain_V1_Growth.getLevelDistribution, .init())
                #expect(part.users > 0 && part.users < expected.levelDistributions[0].users)
            }
            // The workload is rich enough for the comparison to mean something.
            #expect(
                expected.churnTotal > 0 && expected.segmentPages.count > 2 && expected.faq.count >= 2 && expected.overduePages.count > 1)
            #expect(expected.counts.allSatisfy { $0 > 0 })
            // Each shard holds only its own users: no shard's count is the whole.
            for index in 0..<shards {
                let count = try await cluster.shard("profile-\(index)").unary(Retain_V1_Profile.countSegment, .init(asOfMs: Self.today))
                    .count
                #expect(count > 0 && count < expected.counts[0])
                // The policy was written to every shard.
                #expect(try await cluster.shard("profile-\(index)").unary(Retain_V1_Profile.getContactPolicy, .init()).policy?.version == 1)
            }
            // A call about an item no shard holds is NOT_FOUND.
            await #expect {
                _ = try await cluster.gateway.unary(Retain_V1_Feedback.getFeedback, .init(itemId: "fb_00000000000000000000000000"))
            } throws: { ($0 as? RPCError)?.code == .notFound }
            // A page token made for another set of shards (or none) is refused.
            await #expect(throws: RPCError.invalidArgument(field: "page.page_token", "malformed page token")) {
                _ = try await cluster.gateway.unary(
                    Retain_V1_Profile.listSegment, .init(page: .init(pageToken: "s1.0000000000000000.0.u1")))
            }
        } catch {
            await cluster.stop()
            throw error
        }
        await cluster.stop()
    }

    @Test("a shard that does not answer fails a report naming it, or leaves its part out when the caller accepts a partial answer")
    func missingShard() async throws {
        let cluster = try ShardedCluster(shards: 2)
        do {
            try await cluster.waitUntilServing()
            let target = ClusterTarget.gateway(cluster)
            var owned: [String: Int] = [:]
            for (index, user) in Self.users.prefix(20).enumerated() {
                _ = try await target.call(
                    .profile, Retain_V1_Profile.registerUser, .init(userId: user, registeredAtMs: Self.registeredAt(index)))
                let owner = try await cluster.gateway.unary(Retain_V1_Gateway.locateUser, .init(userId: user, service: "Profile")).owner
                owned[owner?.instanceId ?? "", default: 0] += 1
            }
            #expect(try await target.call(.profile, Retain_V1_Profile.countSegment, .init()).count == 20)
            cluster.kill("profile-1")
            await #expect {
                _ = try await target.call(.profile, Retain_V1_Profile.countSegment, .init())
            } throws: { error in
                let error = error as? RPCError
                return error?.code == .unavailable && error?.details["shard"] == "profile-1" && error?.message.contains("profile-1") == true
            }
            var partial = target
            partial.options.metadata = ["partial-results": "allow"]
            let count = try await partial.call(.profile, Retain_V1_Profile.countSegment, .init())
            #expect(count.count == UInt64(owned["profile-0"] ?? 0) && count.missingShards == ["profile-1"])
            let page = try await partial.call(.profile, Retain_V1_Profile.listSegment, .init(page: .init(pageSize: 100)))
            #expect(page.users.count == owned["profile-0"] ?? 0 && page.missingShards == ["profile-1"])
            // A batch across both shards: the live shard's events are recorded, the dead one's
            // reported per event.
            let events = Self.users.prefix(20).map {
                Retain_V1_ActivityEvent(userId: $0, eventId: "late", kind: "login", occurredAtMs: Self.today - 1000)
            }
            let batch = try await target.call(.profile, Retain_V1_Profile.recordActivities, .init(events: events))
            #expect(batch.acceptedCount == UInt32(owned["profile-0"] ?? 0))
            #expect(batch.outcomes.filter { $0 == .notProcessed }.count == owned["profile-1"] ?? 0)
            #expect(batch.errors.allSatisfy { $0.code == 14 && $0.message.contains("profile-1") })
        } catch {
            await cluster.stop()
            throw error
        }
        await cluster.stop()
    }

    @Test("reflection through the gateway lists every routed service, `retain call` works through it, and a one-shard stream is refused")
    func reflection() async throws {
        let cluster = try ShardedCluster(shards: 2)
        do {
            try await cluster.waitUntilServing()
            let services = try await cluster.gateway.unary(Retain_V1_Reflection.listServices, .init()).services
            let names = Set(services.map(\.name))
            #expect(names.isSuperset(of: ["retain.v1.Gateway", "retain.v1.Profile", "retain.v1.Growth", "retain.v1.Feedback"]))
            #expect(!names.contains("retain.v1.Ledger"), "the topology has no ledger")
            let profile = try #require(services.first { $0.name == "retain.v1.Profile" })
            #expect(Set(profile.methods.map(\.path)) == Set(Retain_V1_Profile.methods.map(\.path)))
            let cli = try CommandRun("retain", ["call", "127.0.0.1:\(cluster.gatewayPort)", "retain.v1.Profile/CountSegment", "{}"])
            #expect(cli.status == 0, "retain call through the gateway: \(cli)")
            // A stream of one shard's positions cannot be merged: refused, saying why.
            await #expect {
                for try await _ in cluster.gateway.serverStreaming(Retain_V1_Growth.watchLevelChanges, .init()) {}
            } throws: { error in
                (error as? RPCError)?.code == .failedPrecondition && "\(error)".contains("2 shards")
            }
        } catch {
            await cluster.stop()
            throw error
        }
        await cluster.stop()
    }
}
