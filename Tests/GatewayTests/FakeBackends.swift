import GatewayCore
import GatewayService
import RetainProto
import RetainWire

/// In-memory stand-ins for Profile, Growth, Ledger and Feedback that keep the contract's
/// idempotency rules (a repeat with the same key answers the first answer, transfers apply once
/// per id), with failures injected before or after a call applies, so the flows' retry safety
/// is tested without sockets.
actor FakeBackends: FlowBackend {
    /// Where an injected failure strikes.
    enum Fault {
        /// The call fails without applying (connection refused).
        case before
        /// The call applies, then its answer is lost (connection broken).
        case after
    }

    // Profile
    private var users: [String: Retain_V1_UserProfile] = [:]
    private var registrations: [String: Retain_V1_RegisterUserResponse] = [:]
    private var activities: Set<String> = []
    /// The kind of every activity recorded, by "<user>/<event id>".
    private(set) var activityKinds: [String: String] = [:]
    // Growth
    private var growth: [String: Int64] = [:]
    private var awards: [String: Retain_V1_AwardGrowthResponse] = [:]
    private var logins: [String: UInt32] = [:]
    private var claims: [String: Retain_V1_ClaimTaskRewardResponse] = [:]
    private var finished: [String: Retain_V1_TaskStatus] = [:]
    private var checkIns: [String: Retain_V1_CheckInResponse] = [:]
    private var checkInDays: [String: Int64] = [:]
    // Ledger
    private(set) var balances: [String: Int64] = [:]
    private var transfers: [String: (Retain_V1_Transfer, Retain_V1_TransferResult)] = [:]
    private var referrals: [String: Retain_V1_RewardReferralResponse] = [:]
    private var referralInviters: [String: String] = [:]
    private var openAccounts: Set<String> = []
    private var caps: [String: Int64] = [:]
    private var sequence: UInt64 = 0
    // Feedback
    private var items: [String: Retain_V1_FeedbackItem] = [:]
    private var resolutions: [String: Retain_V1_ResolveFeedbackResponse] = [:]
    private var submitted: [String: Retain_V1_SubmitFeedbackResponse] = [:]
    /// Every submission Feedback received, in order (retries included).
    private(set) var submissions: [Retain_V1_SubmitFeedbackRequest] = []
    private var tiers: [String: Retain_V1_LevelTier] = [:]
    private var levelTiers: [Retain_V1_LevelTier] = []

    private var faults: [String: [Fault]] = [:]
    /// Calls seen per method path (failed ones included).
    private(set) var calls: [String: Int] = [:]
    /// The call kinds seen per method path.
    private(set) var kinds: [String: [FlowCallKind]] = [:]

    /// Growth needed per level: level n needs levelThresholds[n-1].
    let levelThresholds: [Int64] = [0, 20, 50, 100, 1000]

    init() {}

    /// Makes the next calls of `method` fail, in order.
    func inject(_ method: String, _ faults: Fault...) { self.faults[method, default: []] += faults }

    /// Adds a feedback item for `user`.
    func addItem(_ id: String, user: String) {
        items[id] = Retain_V1_FeedbackItem(itemId: id, userId: user, kind: .complaint, status: .new)
    }

    /// Caps a budget account (it must be opened to be used).
    func openBudget(_ account: String, cap: Int64?) {
        openAccounts.insert(account)
        if let cap { caps[account] = cap }
    }

    /// The tiers GetLevelTiers answers.
    func setLevelTiers(_ tiers: [Retain_V1_LevelTier]) { levelTiers = tiers }

    /// Puts `user` in `tier` (GetGrowthView answers it).
    func setTier(_ user: String, _ tier: Retain_V1_LevelTier) { tiers[user] = tier }

    /// A user's balance in `asset`.
    func balance(_ user: String, _ asset: String = "points") -> Int64 { balances["user:\(user):\(asset)"] ?? 0 }

    /// Every transfer id applied.
    var transferIDs: Set<String> { Set(transfers.keys) }

    func call<Input: ProtoMessage, Output: ProtoMessage>(
        _ method: RPCMethod<Input, Output>, _ request: Input, _ kind: FlowCallKind
    ) async throws -> Output {
        // A backend's status reaches the flows as the gateway's backends hand it over.
        do {
            return try answer(method, request, kind)
        } catch let status as RPCError {
            throw BackendFailure(status)
        }
    }

    private func answer<Input: ProtoMessage, Output: ProtoMessage>(
        _ method: RPCMethod<Input, Output>, _ request: Input, _ kind: FlowCallKind
    ) throws -> Output {
        calls[method.path, default: 0] += 1
        kinds[method.path, default: []].append(kind)
        var fault: Fault?
        if var pending = faults[method.path], !pending.isEmpty {
            fault = pending.removeFirst()
            faults[method.path] = pending
        }
        if fault == .before {
            throw RPCError(.unavailable, "injected: not processed", details: ["not_processed": "true"])
        }
        let answer = try apply(method.path, request)
        if fault == .after { throw RPCError(.unavailable, "injected: connection closed after the call applied") }
        return answer as! Output
    }

    private func apply(_ path: String, _ request: any ProtoMessage) throws -> any ProtoMessage {
        switch path {
        case Retain_V1_Profile.registerUser.path: return try register(request as! Retain_V1_RegisterUserRequest)
        case Retain_V1_Profile.getProfile.path:
            let request = request as! Retain_V1_GetProfileRequest
            guard let user = users[request.userId] else { throw RPCError.notFound("user", request.userId) }
            return Retain_V1_GetProfileResponse(profile: user)
        case Retain_V1_Profile.recordActivity.path:
            let request = request as! Retain_V1_RecordActivityRequest
            guard users[request.userId] != nil else { throw RPCError.notFound("user", request.userId) }
            let fresh = activities.insert("\(request.userId)/\(request.eventId)").inserted
            if fresh { activityKinds["\(request.userId)/\(request.eventId)"] = request.kind }
            return Retain_V1_RecordActivityResponse(outcome: fresh ? .accepted : .duplicate, stage: .active)
        case Retain_V1_Profile.getLifecycle.path:
            return Retain_V1_GetLifecycleResponse(stage: .active)
        case Retain_V1_Growth.awardGrowth.path: return award(request as! Retain_V1_AwardGrowthRequest)
        case Retain_V1_Growth.getLevelTiers.path: return Retain_V1_GetLevelTiersResponse(tiers: levelTiers)
        case Retain_V1_Growth.checkIn.path: return checkIn(request as! Retain_V1_CheckInRequest)
        case Retain_V1_Growth.claimTaskReward.path: return try claim(request as! Retain_V1_ClaimTaskRewardRequest)
        case Retain_V1_Growth.getGrowthView.path:
            let user = (request as! Retain_V1_GetGrowthViewRequest).userId
            return Retain_V1_GetGrowthViewResponse(
                totalGrowth: growth[user] ?? 0,
                level: tiers[user] ?? Retain_V1_LevelTier(level: 1, name: "Bronze"))
        case Retain_V1_Growth.getGrowthSummary.path:
            let user = (request as! Retain_V1_GetGrowthSummaryRequest).userId
            return Retain_V1_GetGrowthSummaryResponse(growthEarned: growth[user] ?? 0)
        case Retain_V1_Ledger.createTransfers.path:
            let request = request as! Retain_V1_CreateTransfersRequest
            return Retain_V1_CreateTransfersResponse(results: request.transfers.map { transfer($0) })
        case Retain_V1_Ledger.openAccount.path:
            let request = request as! Retain_V1_OpenAccountRequest
            openAccounts.insert(request.accountId)
            if request.capped { caps[request.accountId] = request.cap }
            return Retain_V1_OpenAccountResponse(account: Retain_V1_Account(accountId: request.accountId), created: true)
        case Retain_V1_Ledger.lookupTransfers.path:
            let request = request as! Retain_V1_LookupTransfersRequest
            return Retain_V1_LookupTransfersResponse(
                transfers: request.transferIds.compactMap { id in
                    transfers[id].map { Retain_V1_TransferRecord(transfer: $0.0, state: .posted, sequence: $0.1.sequence) }
                })
        case Retain_V1_Ledger.rewardReferral.path: return try referral(request as! Retain_V1_RewardReferralRequest)
        case Retain_V1_Ledger.getBalance.path:
            let user = (request as! Retain_V1_GetBalanceRequest).userId
            return Retain_V1_GetBalanceResponse(balances: [Retain_V1_AssetBalance(asset: "points", balance: balance(user))])
        case Retain_V1_Ledger.getLedgerSummary.path, Retain_V1_Ledger.getYearlySummary.path:
            if path == Retain_V1_Ledger.getYearlySummary.path {
                return Retain_V1_GetYearlySummaryResponse(assets: [Retain_V1_AssetSummary(asset: "points")])
            }
            return Retain_V1_GetLedgerSummaryResponse(assets: [Retain_V1_AssetSummary(asset: "points")])
        case Retain_V1_Feedback.submitFeedback.path:
            let request = request as! Retain_V1_SubmitFeedbackRequest
            submissions.append(request)
            let key = "\(request.userId)/\(request.requestId)"
            if var first = submitted[key] {
                first.replayed = true
                return first
            }
            let urgent = request.privileges.contains("priority_support")
            let answer = Retain_V1_SubmitFeedbackResponse(
                item: Retain_V1_FeedbackItem(
                    itemId: "fb_\(submitted.count)", userId: request.userId, status: .new,
                    priority: urgent ? .urgentImportant : .routine))
            submitted[key] = answer
            return answer
        case Retain_V1_Feedback.resolveFeedback.path: return try resolve(request as! Retain_V1_ResolveFeedbackRequest)
        case Retain_V1_Feedback.getFeedback.path:
            let id = (request as! Retain_V1_GetFeedbackRequest).itemId
            guard let item = items[id] else { throw RPCError.notFound("item", id) }
            return Retain_V1_GetFeedbackResponse(item: item)
        case Retain_V1_Feedback.markCompensationPaid.path:
            let request = request as! Retain_V1_MarkCompensationPaidRequest
            guard var item = items[request.itemId], var compensation = item.compensation else {
                throw RPCError(.failedPrecondition, "no compensation")
            }
            guard request.transferId == compensation.transferId else { throw RPCError(.failedPrecondition, "other transfer") }
            let replayed = compensation.state == .paid
            compensation.state = .paid
            compensation.paidAtMs = 1
            item.compensation = compensation
            items[request.itemId] = item
            return Retain_V1_MarkCompensationPaidResponse(item: item, replayed: replayed)
        case Retain_V1_Feedback.getUserFeedbackHistory.path:
            return Retain_V1_GetUserFeedbackHistoryResponse(totalItems: 0)
        default:
            throw RPCError(.unimplemented, "fake has no \(path)")
        }
    }

    private func register(_ request: Retain_V1_RegisterUserRequest) throws -> Retain_V1_RegisterUserResponse {
        if let first = registrations[request.requestId], first.profile?.userId == request.userId {
            var replay = first
            replay.replayed = true
            return replay
        }
        guard users[request.userId] == nil else { throw RPCError(.alreadyExists, "user \(request.userId) exists") }
        let profile = Retain_V1_UserProfile(
            userId: request.userId, channel: request.channel, campaign: request.campaign,
            inviterUserId: request.inviterUserId, timeZone: request.timeZone,
            registeredAtMs: request.registeredAtMs != 0 ? request.registeredAtMs : 1_750_000_000_000)
        users[request.userId] = profile
        let answer = Retain_V1_RegisterUserResponse(profile: profile)
        registrations[request.requestId] = answer
        return answer
    }

    private func level(_ total: Int64) -> UInt32 { UInt32(levelThresholds.lastIndex { $0 <= total }! + 1) }

    private func award(_ request: Retain_V1_AwardGrowthRequest) -> Retain_V1_AwardGrowthResponse {
        let key = "\(request.userId)/\(request.idempotencyKey)"
        if var first = awards[key] {
            first.replayed = true
            return first
        }
        let points: Int64 =
            switch request.action {
            case "sign_up": 25
            case "login": 10
            case "purchase": request.value / 100
            case "invite": 50
            default: 0
            }
        let before = growth[request.userId] ?? 0
        let after = before + points
        growth[request.userId] = after
        var answer = Retain_V1_AwardGrowthResponse(
            awardedGrowth: points, requestedGrowth: points, totalGrowth: after, level: level(after),
            levelledUp: level(after) > level(before), fromLevel: level(before), toLevel: level(after))
        if request.action == "login" {
            logins[request.userId, default: 0] += 1
            if logins[request.userId] == 3 {
                answer.completedTasks = [
                    finish(
                        Retain_V1_TaskStatus(
                            taskId: "login_3", action: "login", period: .once, target: 3, progress: 3, completed: true,
                            periodKey: "once", reward: Retain_V1_Amount(value: 30, asset: "points"),
                            claimId: "task:\(request.userId):login_3:once"))
                ]
            }
        }
        awards[key] = answer
        return answer
    }

    /// Remembers a finished task until it is claimed.
    private func finish(_ task: Retain_V1_TaskStatus) -> Retain_V1_TaskStatus {
        finished[task.claimId] = task
        return task
    }

    /// Growth.CheckIn: 5 growth once per UTC day, the task "daily_check_in" (10 points) with it;
    /// a retry with the same key answers the first answer.
    private func checkIn(_ request: Retain_V1_CheckInRequest) -> Retain_V1_CheckInResponse {
        let key = "\(request.userId)/\(request.idempotencyKey)"
        if !request.idempotencyKey.isEmpty, var first = checkIns[key] {
            first.replayed = true
            return first
        }
        let day = (request.atMs != 0 ? request.atMs : 1_750_000_100_000) / 86_400_000
        let date = "day-\(day)"
        let before = growth[request.userId] ?? 0
        guard checkInDays[request.userId] != day else {
            return Retain_V1_CheckInResponse(
                alreadyCheckedIn: true, localDate: date, totalGrowth: before, level: level(before),
                fromLevel: level(before), toLevel: level(before))
        }
        checkInDays[request.userId] = day
        let after = before + 5
        growth[request.userId] = after
        let task = finish(
            Retain_V1_TaskStatus(
                taskId: "daily_check_in", action: "check_in", period: .daily, target: 1, progress: 1, completed: true,
                periodKey: date, reward: Retain_V1_Amount(value: 10, asset: "points"),
                claimId: "task:\(request.userId):daily_check_in:\(date)"))
        let answer = Retain_V1_CheckInResponse(
            localDate: date, streakDays: 1, baseGrowth: 5, awardedGrowth: 5, totalGrowth: after, level: level(after),
            levelledUp: level(after) > level(before), fromLevel: level(before), toLevel: level(after), completedTasks: [task])
        if !request.idempotencyKey.isEmpty { checkIns[key] = answer }
        return answer
    }

    private func claim(_ request: Retain_V1_ClaimTaskRewardRequest) throws -> Retain_V1_ClaimTaskRewardResponse {
        let id = "task:\(request.userId):\(request.taskId):\(request.periodKey)"
        if var first = claims[id] {
            first.alreadyClaimed = true
            return first
        }
        guard let task = finished[id] else { throw RPCError(.failedPrecondition, "task not finished") }
        let answer = Retain_V1_ClaimTaskRewardResponse(
            task: Retain_V1_TaskStatus(taskId: request.taskId, completed: true, claimed: true, periodKey: request.periodKey, claimId: id),
            reward: task.reward, claimId: id)
        claims[id] = answer
        return answer
    }

    private func transfer(_ transfer: Retain_V1_Transfer) -> Retain_V1_TransferResult {
        if let (body, first) = transfers[transfer.transferId] {
            guard body == transfer else {
                return Retain_V1_TransferResult(transferId: transfer.transferId, code: .existsWithDifferentBody)
            }
            var replay = first
            replay.replayed = true
            return replay
        }
        let debit = transfer.debitAccountId
        if debit.hasPrefix("budget:"), !openAccounts.contains(debit) {
            return Retain_V1_TransferResult(transferId: transfer.transferId, code: .accountNotFound)
        }
        if let cap = caps[debit], (balances[debit] ?? 0) - transfer.amount < -cap {
            return Retain_V1_TransferResult(transferId: transfer.transferId, code: .budgetExceeded)
        }
        balances[debit, default: 0] -= transfer.amount
        balances[transfer.creditAccountId, default: 0] += transfer.amount
        sequence += 1
        let result = Retain_V1_TransferResult(transferId: transfer.transferId, code: .ok, sequence: sequence, committedAtMs: 1)
        transfers[transfer.transferId] = (transfer, result)
        return result
    }

    private func referral(_ request: Retain_V1_RewardReferralRequest) throws -> Retain_V1_RewardReferralResponse {
        if var first = referrals[request.userId] {
            first.replayed = true
            return first
        }
        // One fake day: the cap counts every referral an inviter was rewarded.
        let rewarded = referrals.values.filter { $0.results.first?.transferId.hasSuffix(":inviter") == true }
            .compactMap { answer in referralInviters[answer.results[0].transferId] }.filter { $0 == request.inviterUserId }.count
        if request.inviterDailyCap > 0, rewarded >= Int(request.inviterDailyCap) {
            return Retain_V1_RewardReferralResponse(inviterCapped: true)
        }
        var results: [Retain_V1_TransferResult] = []
        for (who, reward) in [("inviter", request.inviterReward), ("invitee", request.inviteeReward)] {
            guard let reward else { continue }
            let user = who == "inviter" ? request.inviterUserId : request.userId
            let budget = "budget:\(request.campaignId):\(reward.asset)"
            guard openAccounts.contains(budget) else {
                throw RPCError(.failedPrecondition, "budget missing", details: ["result": "ACCOUNT_NOT_FOUND"])
            }
            results.append(
                transfer(
                    Retain_V1_Transfer(
                        transferId: "referral:\(request.userId):\(who)", debitAccountId: budget,
                        creditAccountId: "user:\(user):\(reward.asset)",
                        amount: reward.value, asset: reward.asset, kind: .referralReward)))
        }
        let answer = Retain_V1_RewardReferralResponse(results: results)
        referrals[request.userId] = answer
        referralInviters["referral:\(request.userId):inviter"] = request.inviterUserId
        return answer
    }

    private func resolve(_ request: Retain_V1_ResolveFeedbackRequest) throws -> Retain_V1_ResolveFeedbackResponse {
        if var first = resolutions[request.requestId] {
            first.replayed = true
            first.item = items[request.itemId]
            return first
        }
        guard var item = items[request.itemId] else { throw RPCError.notFound("item", request.itemId) }
        guard item.status != .resolved, item.status != .closed else {
            throw RPCError(.failedPrecondition, "item \(request.itemId) is \(item.status)")
        }
        item.status = .resolved
        if let amount = request.compensation, item.compensation == nil {
            item.compensation = Retain_V1_FeedbackCompensation(
                amount: amount, state: .owed, transferId: "feedback:\(request.itemId):compensation")
        }
        items[request.itemId] = item
        let answer = Retain_V1_ResolveFeedbackResponse(item: item)
        resolutions[request.requestId] = answer
        return answer
    }
}
