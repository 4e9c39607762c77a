public import RetainProto
public import RetainRPC
import RetainWire

/// What the demo prints at the end, read from the services' own answers through the gateway:
/// retention by channel (Profile.GetRetention), the activation funnel (Profile.GetFunnel), the
/// checkout experiment's result (Profile.GetExperimentResults), the level distribution
/// (Growth.GetGrowthView of every simulated user), points issued, spent and expired and the
/// coupons (Ledger.Audit), and the feedback summary (Feedback.GetFeedbackStats).
public struct DemoReport: Sendable {
    /// Retention of one channel (or of all, `channel == "all"`) on day N after registration,
    /// summed over the daily cohorts whose day N is over.
    public struct Retention: Sendable {
        /// The channel.
        public var channel: String
        /// Users who registered through it in the simulated weeks.
        public var newUsers: UInt64
        /// Per requested day: users active on their day N, and the users of the cohorts where
        /// day N is complete.
        public var cells: [(day: UInt32, retained: UInt64, base: UInt64)]
    }

    /// Users per level.
    public struct Level: Sendable {
        /// The level, 1 for the lowest tier.
        public var level: UInt32
        /// The tier's name.
        public var name: String
        /// Simulated users at this level now.
        public var users: Int
    }

    /// The points asset over all user accounts.
    public struct Points: Sendable {
        /// Credited per transfer kind (welcome bonus, referral, task, level, compensation, ...).
        public var issuedByKind: [(kind: String, value: Int64)]
        /// All credits but refunds.
        public var issued: Int64
        /// Redemptions less refunds.
        public var spent: Int64
        /// Expired lots.
        public var expired: Int64
        /// Penalties.
        public var penalized: Int64
        /// What users hold now (the sum of their balances).
        public var outstanding: Int64
        /// Whether every account's debits and credits net to zero (Ledger.Audit's `balanced`).
        public var balanced: Bool
    }

    /// Feedback over the simulated weeks.
    public struct Feedback: Sendable {
        /// Items submitted per kind: total, still open, done.
        public var byKind: [(kind: String, total: UInt64, open: UInt64, done: UInt64)]
        /// Items resolved (at the run's real time).
        public var resolved: UInt64
        /// Items open now.
        public var open: UInt64
        /// Open items past their due time.
        public var overdue: UInt64
        /// Points paid as compensation through the ledger (COMPENSATION credits).
        public var compensationPaid: Int64
        /// Compensation transfers.
        public var compensations: UInt64
    }

    /// The ledger's expiry run at the end.
    public struct ExpirySweep: Sendable {
        /// As of when lots were expired, Unix ms.
        public var asOfMs: Int64
        /// Lots expired.
        public var lots: UInt64
        /// Points in those lots.
        public var points: Int64
    }

    /// The registration -> activation -> first purchase funnel of one channel (or `all`) over
    /// the simulated weeks (Profile.GetFunnel, summed over its weekly cohorts).
    public struct Funnel: Sendable {
        public var channel: String
        public var registered: UInt64
        public var activated: UInt64
        public var purchased: UInt64
        public var purchasedNotActivated: UInt64
    }

    /// Coupons of the demo's coupon asset over all accounts (Ledger.Audit).
    public struct Coupons: Sendable {
        /// The asset (coupon.<coupon_id>).
        public var asset: String
        /// Coupons issued, redeemed (less refunds), given back by refunds, expired, and held unused now.
        public var issued: Int64
        public var redeemed: Int64
        public var refunded: Int64
        public var expired: Int64
        public var outstanding: Int64
    }

    /// One row per channel, then `all`.
    public var retention: [Retention]
    /// The funnel: one row per channel, then `all`.
    public var funnel: [Funnel]
    /// The activation definition the funnel follows, in words.
    public var activation: String
    /// The checkout experiment's result for the metric `purchase` (Profile.GetExperimentResults).
    public var experiment: Retain_V1_GetExperimentResultsResponse
    /// The recall campaign's results (Profile.GetCampaignResults); nil when nobody was drifting
    /// away.
    public var recall: Retain_V1_GetCampaignResultsResponse?
    /// The coupons.
    public var coupons: Coupons
    /// Every tier, lowest first.
    public var levels: [Level]
    /// The points asset.
    public var points: Points
    /// Feedback over the simulated weeks.
    public var feedback: Feedback
    /// The expiry run at the end.
    public var expiry: ExpirySweep
    /// What the demo itself sent (not the report's source).
    public var activity: DemoActivity

    /// Reads the report through the gateway.
    static func gather(
        client: RPCClient, options: CallOptions, users: [String], channels: [String], startMs: Int64, endMs: Int64,
        expiry: ExpirySweep, activity: DemoActivity, concurrency: Int, experimentID: String, couponAsset: String
    ) async throws -> DemoReport {
        // Retention: daily cohorts of the simulated weeks, one row per channel too.
        let days: [UInt32] = [1, 7, 30]
        let answer = try await client.unary(
            Retain_V1_Profile.getRetention,
            Retain_V1_GetRetentionRequest(
                granularity: .day, registered: Retain_V1_TimeRange(startMs: startMs, endMs: endMs), byChannel: true,
                days: days, timeZone: "UTC"), options: options)
        var retention: [Retention] = []
        let newUsers = Dictionary(answer.newUsersByChannel.map { ($0.channel, $0.newUsers) }, uniquingKeysWith: +)
        let known = channels + newUsers.keys.filter { !channels.contains($0) }.sorted()
        for channel in known + ["all"] {
            let rows = answer.cohorts.filter { $0.channel == (channel == "all" ? "" : channel) }
            var row = Retention(channel: channel, newUsers: rows.reduce(0) { $0 + $1.newUsers }, cells: [])
            for (position, day) in days.enumerated() {
                var retained: UInt64 = 0
                var base: UInt64 = 0
                for cohort in rows where position < cohort.cells.count && cohort.cells[position].complete {
                    retained += cohort.cells[position].retained
                    base += cohort.newUsers
                }
                row.cells.append((day, retained, base))
            }
            retention.append(row)
        }

        // The funnel: weekly cohorts by channel, summed per channel.
        let funnelAnswer = try await client.unary(
            Retain_V1_Profile.getFunnel,
            Retain_V1_GetFunnelRequest(
                granularity: .week, registered: Retain_V1_TimeRange(startMs: startMs, endMs: endMs), byChannel: true,
                timeZone: "UTC"), options: options)
        var funnel: [Funnel] = []
        for channel in known + ["all"] {
            let rows = funnelAnswer.rows.filter { channel == "all" ? $0.allChannels : !$0.allChannels && $0.channel == channel }
            funnel.append(
                Funnel(
                    channel: channel, registered: rows.reduce(0) { $0 + $1.registered }, activated: rows.reduce(0) { $0 + $1.activated },
                    purchased: rows.reduce(0) { $0 + $1.purchased },
                    purchasedNotActivated: rows.reduce(0) { $0 + $1.purchasedNotActivated }))
        }
        let definition = funnelAnswer.activation ?? Retain_V1_ActivationDefinition()
        let activation = "active on \(definition.minActiveDays) of the first \(definition.withinDays) days"

        // The checkout experiment, metric purchase.
        let experiment = try await client.unary(
            Retain_V1_Profile.getExperimentResults,
            Retain_V1_GetExperimentResultsRequest(experimentId: experimentID, metricKind: "purchase", controlVariant: "control"),
            options: options)

        // Levels: every simulated user's growth view.
        let views = try await withThrowingTaskGroup(of: (UInt32, String)?.self) { group in
            var iterator = users.makeIterator()
            var found: [(UInt32, String)?] = []
            func addNext() {
                guard let user = iterator.next() else { return }
                group.addTask {
                    do {
                        let view = try await client.unary(
                            Retain_V1_Growth.getGrowthView, Retain_V1_GetGrowthViewRequest(userId: user), options: options)
                        return view.level.map { ($0.level, $0.name) }
                    } catch let error as RPCError where error.code == .notFound {
                        return nil
                    }
                }
            }
            for _ in 0..<max(1, concurrency) { addNext() }
            while let view = try await group.next() {
                found.append(view)
                addNext()
            }
            return found
        }
        var byLevel: [UInt32: Level] = [:]
        for case let (level, name)? in views { byLevel[level, default: Level(level: level, name: name, users: 0)].users += 1 }
        let tiers = try await client.unary(Retain_V1_Growth.getLevelTiers, Retain_V1_GetLevelTiersRequest(), options: options).tiers
        let levels = tiers.map { byLevel[$0.level] ?? Level(level: $0.level, name: $0.name, users: 0) }

        // Points: the ledger's own totals per kind over user accounts.
        let audit = try await client.unary(Retain_V1_Ledger.audit, Retain_V1_AuditRequest(assets: ["points"]), options: options)
        let totals = audit.assets.first { $0.asset == "points" }?.byKind ?? []
        func credited(_ kind: Retain_V1_TransferKind) -> Int64 { totals.filter { $0.kind == kind }.reduce(0) { $0 + $1.credited } }
        func debited(_ kind: Retain_V1_TransferKind) -> Int64 { totals.filter { $0.kind == kind }.reduce(0) { $0 + $1.debited } }
        let issuedByKind = totals.filter { $0.credited > 0 && $0.kind != .refund }.map { (Self.name(of: $0.kind), $0.credited) }
        let points = Points(
            issuedByKind: issuedByKind, issued: issuedByKind.reduce(0) { $0 + $1.1 },
            spent: debited(.redemption) - credited(.refund), expired: debited(.expiry), penalized: debited(.penalty),
            outstanding: audit.assets.first { $0.asset == "points" }?.userBalances ?? 0, balanced: audit.balanced)

        // Coupons: the ledger's totals of the coupon asset per kind.
        let couponAudit = try await client.unary(Retain_V1_Ledger.audit, Retain_V1_AuditRequest(assets: [couponAsset]), options: options)
        let couponTotals = couponAudit.assets.first { $0.asset == couponAsset }?.byKind ?? []
        func couponCredited(_ kind: Retain_V1_TransferKind) -> Int64 {
            couponTotals.filter { $0.kind == kind }.reduce(0) { $0 + $1.credited }
        }
        func couponDebited(_ kind: Retain_V1_TransferKind) -> Int64 {
            couponTotals.filter { $0.kind == kind }.reduce(0) { $0 + $1.debited }
        }
        let coupons = Coupons(
            asset: couponAsset, issued: couponCredited(.issue), redeemed: couponDebited(.redemption) - couponCredited(.refund),
            refunded: couponCredited(.refund), expired: couponDebited(.expiry),
            outstanding: couponAudit.assets.first { $0.asset == couponAsset }?.userBalances ?? 0)

        // Feedback: items submitted in the simulated weeks and resolved since (Feedback's clock).
        let stats = try await client.unary(
            Retain_V1_Feedback.getFeedbackStats,
            Retain_V1_GetFeedbackStatsRequest(
                range: Retain_V1_TimeRange(startMs: startMs, endMs: expiry.asOfMs)), options: options)
        let compensation = totals.first { $0.kind == .compensation }
        let feedback = Feedback(
            byKind: stats.submittedByKind.map { (Self.name(of: $0.kind), $0.total, $0.openCount, $0.doneCount) },
            resolved: stats.resolvedCount, open: stats.openTotal, overdue: stats.overdueTotal,
            compensationPaid: compensation?.credited ?? 0, compensations: compensation?.count ?? 0)

        return DemoReport(
            retention: retention, funnel: funnel, activation: activation, experiment: experiment, coupons: coupons, levels: levels,
            points: points, feedback: feedback, expiry: expiry, activity: activity)
    }

    static func name(of kind: Retain_V1_TransferKind) -> String {
        switch kind {
        case .issue: "issue"
        case .welcomeBonus: "welcome bonus"
        case .referralReward: "referral reward"
        case .taskReward: "task reward"
        case .levelReward: "level reward"
        case .compensation: "compensation"
        case .redemption: "redemption"
        case .refund: "refund"
        case .expiry: "expiry"
        case .penalty: "penalty"
        case .adjustment: "adjustment"
        default: "kind \(kind.rawValue)"
        }
    }

    static func name(of kind: Retain_V1_FeedbackKind) -> String {
        switch kind {
        case .suggestion: "suggestion"
        case .complaint: "complaint"
        case .bug: "bug"
        case .question: "question"
        default: "kind \(kind.rawValue)"
        }
    }
}
