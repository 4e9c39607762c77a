public import Foundation
public import RetainProto
public import RetainRPC
import RetainWire

/// The demo scenario: simulated users arrive through several channels over simulated weeks and
/// log in, check in, buy, spend points, invite friends and complain, all through the gateway
/// (its flows and forwarded calls); a support desk resolves complaints, some with compensation.
/// At the end the ledger's expiry runs and ``DemoReport`` reads the figures from the services.
///
/// Simulated time: registrations, activities, awards and submissions carry the simulated time
/// (`registered_at_ms`, `occurred_at_ms`, `submitted_at_ms`), so Profile's retention and
/// Growth's daily caps and tasks follow the simulated days (Growth only when it honours client
/// times, `--allow-client-times`; otherwise it counts every award at its own clock). The
/// ledger and Feedback's workflow keep their own clocks: transfers commit and items are
/// resolved at the real time of the run; lot expiries are computed from the simulated times.
/// The simulated weeks end at the start of today (UTC), so no time lies in the future.
public struct DemoScenario: Sendable {
    /// The scenario's size and behaviour.
    public struct Configuration: Sendable {
        /// Simulated users (referred friends included); default 3,000.
        public var users = 3_000
        /// Simulated weeks; default 6 (so day-30 retention has complete cohorts).
        public var weeks = 6
        /// Seed of every random choice; default 1.
        public var seed: UInt64 = 1
        /// Calls in flight at once; default 64.
        public var concurrency = 64
        /// The acquisition channels; default ``DemoChannel/standard``.
        public var channels = DemoChannel.standard
        /// The ledger's expiry runs as of this many days after the last simulated day (the
        /// demo's fast-forward, so that lots due by then show as expired); 0 runs none.
        /// Default 60: task rewards (90 days) of the first weeks expire.
        public var expirySweepDays = 60
        /// Prefix of every user id and key, so runs against one suite do not collide; default
        /// `demo-<seconds since 1970 in base 36>`.
        public var runID = "demo-" + String(Int(Date().timeIntervalSince1970), radix: 36)
        /// The coupon every new user is given: 满100减20 (20.00 off orders of 100.00 or more, in
        /// the purchases' asset `usd`), valid 30 days.
        public var coupon = Retain_V1_CouponDefinition(
            couponId: "demo_full100_minus20", title: "满100减20: 20 off orders of 100 or more", campaignId: "demo",
            threshold: Retain_V1_Amount(value: 10_000, asset: "usd"), faceValue: Retain_V1_Amount(value: 2_000, asset: "usd"),
            validDays: 30)
        /// Chance that a purchase is bought, per day a user is active, in the control variant of
        /// the checkout experiment, and in the `one_click` variant (the simulated effect).
        public var purchaseChance = (control: 0.12, oneClick: 0.16)

        /// End of the simulated weeks, Unix ms; default the start of today (UTC).
        public var endMs: Int64 = {
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            return now - now % DemoScenario.dayMs
        }()

        public init() {}
    }

    static let dayMs: Int64 = 86_400_000

    /// The A/B experiment the demo runs on checkout: `control` and `one_click`, half each.
    var experimentID: String { "\(configuration.runID).checkout" }

    let client: RPCClient
    let options: CallOptions
    let configuration: Configuration
    let output: @Sendable (String) -> Void

    /// A scenario calling the gateway through `client` with `options` (its credential), printing
    /// progress to `output`.
    public init(
        client: RPCClient, options: CallOptions, configuration: Configuration,
        output: @escaping @Sendable (String) -> Void
    ) {
        self.client = client
        self.options = options
        self.configuration = configuration
        self.output = output
    }

    /// Simulates every day, runs the expiry and reads the report from the services.
    public func run() async throws -> DemoReport {
        let days = configuration.weeks * 7
        let startMs = configuration.endMs - Int64(days) * Self.dayMs
        let population = DemoPopulation(
            count: configuration.users, days: days, channels: configuration.channels,
            seed: configuration.seed, idPrefix: configuration.runID)
        let tally = DemoTally()
        let desk = SupportDesk()
        let book = DemoBook()
        // The coupon's definition (admin; the same definition again is harmless).
        await call(tally, "Ledger/DefineCoupon") {
            _ = try await client.unary(
                Retain_V1_Ledger.defineCoupon, Retain_V1_DefineCouponRequest(coupon: configuration.coupon), options: options)
        }
        // The checkout experiment's definition (admin configuration; the same run again is harmless).
        await call(tally, "RuleSets/SetRuleSet") { try await defineCheckoutExperiment() }
        let clock = ContinuousClock()
        let began = clock.now
        output(
            "demo: \(configuration.users) users over \(configuration.weeks) weeks (\(Self.date(startMs)) to \(Self.date(configuration.endMs - 1))), channels \(configuration.channels.map(\.name).joined(separator: ", ")), run id \(configuration.runID)"
        )

        var registered = 0
        for day in 0..<days {
            let dayStart = startMs + Int64(day) * Self.dayMs
            // 1. Arrivals: onboard (a referred friend names the inviter, who is rewarded).
            try await forEach(population.arrivals[day]) { index in
                await self.arrive(population.users[index], population: population, dayStart: dayStart, tally: tally, book: book)
            }
            registered += population.arrivals[day].count
            // 2. Everyone registered so far may come back today.
            try await forEach(Array(0..<registered)) { index in
                await self.live(population.users[index], day: day, dayStart: dayStart, tally: tally, desk: desk, book: book)
            }
            // 3. The support desk works through complaints at least two days old.
            let due = await desk.take(submittedBefore: day - 1)
            try await forEach(due) { item in
                await self.resolve(item, day: day, tally: tally, desk: desk)
            }
            if day % 7 == 6 {
                let counts = await tally.snapshot()
                let elapsed = clock.now - began
                output(
                    "demo: week \(day / 7 + 1)/\(configuration.weeks): \(registered) users, \(counts.calls) calls (\(counts.failed) failed), \(counts.complaints) complaints, \(counts.resolved) resolved; \(Self.seconds(elapsed)) s"
                )
            }
        }

        let sweepMs = configuration.endMs + Int64(configuration.expirySweepDays) * Self.dayMs
        var expiry = DemoReport.ExpirySweep(asOfMs: sweepMs, lots: 0, points: 0)
        if configuration.expirySweepDays > 0 {
            var more = true
            while more {
                let answer = try await client.unary(
                    Retain_V1_Ledger.expireLots, Retain_V1_ExpireLotsRequest(asOfMs: sweepMs, assets: ["points"], limit: 100_000),
                    options: options)
                expiry.lots += answer.expiredLots
                expiry.points += answer.expired.filter { $0.asset == "points" }.reduce(0) { $0 + $1.value }
                more = answer.more
            }
        }
        let counts = await tally.snapshot()
        output(
            "demo: simulated \(days) days in \(Self.seconds(clock.now - began)) s: \(counts.calls) calls through the gateway, \(counts.failed) failed"
        )
        if !counts.failures.isEmpty {
            for (what, count) in counts.failures.sorted(by: { $0.key < $1.key }).prefix(10) { output("demo:   failed: \(what) x\(count)") }
        }
        let recall = try await recallCampaign(tally: tally)
        var report = try await DemoReport.gather(
            client: client, options: options, users: population.users.map(\.id), channels: configuration.channels.map(\.name),
            startMs: startMs, endMs: configuration.endMs, expiry: expiry, activity: counts, concurrency: configuration.concurrency,
            experimentID: experimentID, couponAsset: "coupon.\(configuration.coupon.couponId)")
        report.recall = recall
        return report
    }

    // MARK: - What a user does

    private func arrive(
        _ user: DemoPopulation.User, population: DemoPopulation, dayStart: Int64, tally: DemoTally, book: DemoBook
    ) async {
        var random = SeededRandom(configuration.seed, UInt64(user.index), 0xA11)
        let at = dayStart + 6 * 3_600_000 + Int64.random(in: 0..<7_200_000, using: &random)
        var inviterID = ""
        // The referral (and the inviter's invite growth) pays at the invitee's first purchase.
        if let inviter = user.inviter.map({ population.users[$0] }) { inviterID = inviter.id }
        await call(tally, "Gateway/Onboard") {
            _ = try await client.unary(
                Retain_V1_Gateway.onboard,
                Retain_V1_OnboardRequest(
                    userId: user.id, eventId: "\(user.id)-onboard", channel: user.channel.name, campaign: "",
                    inviterUserId: inviterID, timeZone: "UTC", registeredAtMs: at), options: options)
        }
        // The checkout experiment: the user's sticky variant decides how likely they buy.
        await call(tally, "Profile/AssignVariant") {
            let answer = try await client.unary(
                Retain_V1_Profile.assignVariant,
                Retain_V1_AssignVariantRequest(
                    userId: user.id, experimentId: experimentID, variants: Self.checkoutVariants, assignedAtMs: at),
                options: options)
            await book.assign(user.id, oneClick: answer.variant == "one_click")
        }
        // A welcome coupon (满100减20), redeemed at the user's first purchase big enough.
        await call(tally, "Ledger/IssueCoupon") {
            _ = try await client.unary(
                Retain_V1_Ledger.issueCoupon,
                Retain_V1_IssueCouponRequest(
                    couponId: configuration.coupon.couponId, userId: user.id, code: "\(user.id)-welcome", reason: "welcome coupon"),
                options: options)
            await book.issued(user.id)
        }
    }

    private func live(
        _ user: DemoPopulation.User, day: Int, dayStart: Int64, tally: DemoTally, desk: SupportDesk, book: DemoBook
    ) async {
        var random = SeededRandom(configuration.seed, UInt64(user.index), UInt64(day))
        guard random.chance(user.channel.activeProbability(daysSinceRegistration: day - user.arrivalDay)) else { return }
        var at = dayStart + 9 * 3_600_000 + Int64.random(in: 0..<(12 * 3_600_000), using: &random)
        func track(_ action: String, value: Retain_V1_Amount? = nil) async {
            at += Int64.random(in: 30_000..<600_000, using: &random)
            let request = Retain_V1_TrackActionRequest(
                userId: user.id, eventId: "\(user.id)-d\(day)-\(action)", action: action, value: value, occurredAtMs: at,
                timeZone: "UTC", source: "demo")
            await call(tally, "Gateway/TrackAction \(action)") {
                _ = try await client.unary(Retain_V1_Gateway.trackAction, request, options: options)
            }
        }
        await track("login")
        if random.chance(0.6) {
            // Check-ins go through the gateway's CheckInFlow: activity in Profile, the streak in
            // Growth, the daily and weekly check-in tasks' rewards and any level reward paid.
            at += Int64.random(in: 30_000..<600_000, using: &random)
            let request = Retain_V1_CheckInFlowRequest(
                userId: user.id, eventId: "\(user.id)-d\(day)-check-in", atMs: at, timeZone: "UTC", source: "demo")
            await call(tally, "Gateway/CheckInFlow") {
                _ = try await client.unary(Retain_V1_Gateway.checkInFlow, request, options: options)
            }
        }
        let chance = await book.isOneClick(user.id) ? configuration.purchaseChance.oneClick : configuration.purchaseChance.control
        if random.chance(chance) {
            let order = Retain_V1_Amount(value: Int64.random(in: 20...600, using: &random) * 100, asset: "usd")
            if await book.hasCoupon(user.id) {
                await redeemCoupon(
                    user, order: order, orderID: "\(user.id)-d\(day)-order", refund: random.chance(0.1), tally: tally, book: book)
            }
            await track("purchase", value: order)
        }
        if random.chance(0.15) {
            // Spend points in the shop: a redemption the ledger refuses when the balance is short.
            let amount = Int64.random(in: 5...30, using: &random) * 10
            let transfer = Retain_V1_Transfer(
                transferId: "\(user.id)-d\(day)-redeem", debitAccountId: "user:\(user.id):points",
                creditAccountId: "redemption:points", amount: amount, asset: "points", kind: .redemption,
                reason: "shop order", metadata: ["source": "demo"])
            await call(tally, "Ledger/CreateTransfers redemption") {
                let answer = try await client.unary(
                    Retain_V1_Ledger.createTransfers, Retain_V1_CreateTransfersRequest(transfers: [transfer]), options: options)
                guard let code = answer.results.first?.code, code == .ok || code == .insufficientFunds else {
                    throw RPCError(.internal, "redemption answered \(answer.results.first.map { "\($0.code)" } ?? "no result")")
                }
            }
        }
        if random.chance(0.018) {
            let kinds: [Retain_V1_FeedbackKind] = [.complaint, .complaint, .complaint, .bug, .question, .suggestion]
            let kind = kinds[Int.random(in: 0..<kinds.count, using: &random)]
            let texts: [Retain_V1_FeedbackKind: [String]] = [
                .complaint: ["My order arrived late and the points did not show up.", "我被重复扣款了，订单只有一个。"],
                .bug: ["The app crashes when I open my points history.", "签到页面一打开就闪退"],
                .question: ["How do I use my points at checkout?"],
                .suggestion: ["Please let me pay shipping with points.", "希望增加深色模式"],
            ]
            let choices = texts[kind] ?? ["It does not work."]
            let text = choices[Int.random(in: 0..<choices.count, using: &random)]
            at += 60_000
            let request = Retain_V1_SubmitFeedbackRequest(
                userId: user.id, requestId: "\(user.id)-d\(day)-feedback", kind: kind,
                category: kind == .complaint && text.contains("扣款") ? "payment" : "orders",
                text: text, channel: "app", submittedAtMs: at)
            // Through the gateway, so that the user's tier privileges (priority support) reach
            // Feedback's priority rules.
            await call(tally, "Gateway/SubmitFeedbackFlow") {
                let answer = try await client.unary(
                    Retain_V1_Gateway.submitFeedbackFlow, Retain_V1_SubmitFeedbackFlowRequest(submission: request), options: options)
                guard let item = answer.feedback?.item else { throw RPCError(.internal, "SubmitFeedbackFlow answered no item") }
                await desk.submit(SupportDesk.Item(id: item.itemId, kind: kind, day: day))
                await tally.complained()
            }
        }
    }

    /// Redeems the user's welcome coupon on an order: an order under the threshold is refused
    /// with COUPON_THRESHOLD_NOT_MET (expected, counted); a tenth of the orders are returned and
    /// the coupon given back.
    private func redeemCoupon(
        _ user: DemoPopulation.User, order: Retain_V1_Amount, orderID: String, refund: Bool, tally: DemoTally, book: DemoBook
    ) async {
        let code = "\(user.id)-welcome"
        await call(tally, "Ledger/RedeemCoupon") {
            do {
                _ = try await client.unary(
                    Retain_V1_Ledger.redeemCoupon,
                    Retain_V1_RedeemCouponRequest(code: code, userId: user.id, orderId: orderID, orderAmount: order), options: options)
                await book.redeemed(user.id)
            } catch let error as RPCError where error.details["result"] == "COUPON_RESULT_CODE_COUPON_THRESHOLD_NOT_MET" {
                await tally.couponBelowThreshold()
                return
            } catch let error as RPCError where error.details["result"] == "COUPON_RESULT_CODE_COUPON_EXPIRED" {
                await book.expired(user.id)
                return
            }
            guard refund else { return }
            _ = try await client.unary(
                Retain_V1_Ledger.refundCoupon,
                Retain_V1_RefundCouponRequest(code: code, orderId: orderID, reason: "order returned"), options: options)
            await book.refunded(user.id)
        }
    }

    private func resolve(_ item: SupportDesk.Item, day: Int, tally: DemoTally, desk: SupportDesk) async {
        var random = SeededRandom(configuration.seed, SeededRandom.key(item.id), UInt64(day), 0xDE5C)
        guard random.chance(0.6) else {
            await desk.submit(item)
            return
        }
        let compensate = item.kind != .question && item.kind != .suggestion && random.chance(0.5)
        let request = Retain_V1_ResolveFeedbackFlowRequest(
            itemId: item.id, eventId: "\(item.id)-resolve", actor: "support-desk",
            note: compensate ? "late delivery confirmed" : "handled",
            outcome: item.kind == .question ? .answered : item.kind == .suggestion ? .accepted : .fixed,
            answer: item.kind == .question ? "Choose 'pay with points' at checkout." : "",
            compensation: compensate ? Retain_V1_Amount(value: 50, asset: "points") : nil)
        await call(tally, "Gateway/ResolveFeedbackFlow") {
            _ = try await client.unary(Retain_V1_Gateway.resolveFeedbackFlow, request, options: options)
            await tally.resolvedOne()
        }
    }

    // MARK: - Helpers

    /// Runs `body`, counting the call and any failure by `what` and status (the demo goes on).
    func call(_ tally: DemoTally, _ what: String, _ body: () async throws -> Void) async {
        do {
            try await body()
            await tally.called(failure: nil)
        } catch let error as RPCError {
            await tally.called(failure: "\(what): \(error.code)")
        } catch {
            await tally.called(failure: "\(what): \(error)")
        }
    }

    /// Runs `body` for every element, at most `configuration.concurrency` at once.
    func forEach<Element: Sendable>(_ elements: [Element], _ body: @escaping @Sendable (Element) async -> Void) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            var iterator = elements.makeIterator()
            for _ in 0..<max(1, configuration.concurrency) {
                guard let element = iterator.next() else { break }
                group.addTask { await body(element) }
            }
            while try await group.next() != nil {
                try Task.checkCancellation()
                if let element = iterator.next() { group.addTask { await body(element) } }
            }
        }
    }

    static func date(_ ms: Int64) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd"
        return formatter.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
    }

    static func seconds(_ duration: Duration) -> String {
        String(format: "%.1f", Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18)
    }
}

/// The complaints waiting for the support desk.
actor SupportDesk {
    struct Item: Sendable {
        let id: String
        let kind: Retain_V1_FeedbackKind
        let day: Int
    }

    private var waiting: [Item] = []

    func submit(_ item: Item) { waiting.append(item) }

    /// Removes and returns the items submitted before `day`, oldest first.
    func take(submittedBefore day: Int) -> [Item] {
        let due = waiting.filter { $0.day < day }
        waiting.removeAll { $0.day < day }
        return due.sorted { ($0.day, $0.id) < ($1.day, $1.id) }
    }
}

/// The demo's own book of what each user holds: their experiment variant and whether their
/// welcome coupon is still unused (to decide what they do; the report reads the services).
actor DemoBook {
    private var oneClick: Set<String> = []
    private var couponHolders: Set<String> = []

    func assign(_ user: String, oneClick: Bool) { if oneClick { self.oneClick.insert(user) } }
    func isOneClick(_ user: String) -> Bool { oneClick.contains(user) }
    func issued(_ user: String) { couponHolders.insert(user) }
    func hasCoupon(_ user: String) -> Bool { couponHolders.contains(user) }
    func redeemed(_ user: String) { couponHolders.remove(user) }
    func refunded(_ user: String) { couponHolders.insert(user) }
    func expired(_ user: String) { couponHolders.remove(user) }
}
