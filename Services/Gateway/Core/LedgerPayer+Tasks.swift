public import RetainProto
public import RetainFlowRules

extension LedgerPayer {
    /// What claiming and paying finished tasks gave: the claimed tasks and their reward
    /// transfers (only the tasks with a reward have one).
    public struct TaskRewards: Sendable {
        /// The tasks claimed, in the order Growth finished them.
        public var tasks: [Retain_V1_TaskStatus] = []
        /// The reward transfers paid.
        public var transfers: [Retain_V1_TransferResult] = []
    }

    /// Claims every task in `completed` (once per task and period, under the claim id Growth
    /// gives, else one derived from `eventID`) and pays its reward as transfer = the claim id,
    /// recording a `growth.claim_task` and a `ledger.task_reward` step per task. A reward in
    /// points is multiplied by the `points_multiplier` privilege of the user's tier at `level`
    /// (read from Growth.GetLevelTiers when there is one to pay). A retry claims and pays
    /// nothing twice.
    ///
    /// - Parameters:
    ///   - completed: the tasks an award or a check-in finished.
    ///   - level: the user's level after the award or check-in.
    ///   - occurredAtMs: the action's time (0: now), the time of the claims, so that a task of
    ///     an earlier period is claimed within its claim window.
    ///   - base: when the reward lots' validity starts, Unix ms.
    ///   - flow: the flow's name, kept in the transfers' metadata.
    /// - Throws: ``FlowError/paymentRefused(_:result:)`` when the task budget cannot pay (the
    ///   claim stands; a retry pays it once the budget is raised).
    public func claimAndPayTasks(
        _ completed: [Retain_V1_TaskStatus], user: String, level: UInt32, timeZone: String, eventID: String,
        occurredAtMs: Int64, base: Int64, now: Int64, flow: String, steps: inout FlowSteps
    ) async throws -> TaskRewards {
        var rewards = TaskRewards()
        var tierRead = false
        var multiplier: PointsMultiplier?
        for task in completed {
            let key = task.claimId.isEmpty ? FlowKeys.derive("claim:\(task.taskId):\(task.periodKey):", eventID) : task.claimId
            let claim = try await backend.call(
                Retain_V1_Growth.claimTaskReward,
                Retain_V1_ClaimTaskRewardRequest(
                    userId: user, taskId: task.taskId, periodKey: task.periodKey, idempotencyKey: key,
                    timeZone: timeZone, atMs: occurredAtMs), .write(key: key))
            steps.ran("growth.claim_task", replayed: claim.alreadyClaimed, "task \(task.taskId) (\(task.periodKey))")
            rewards.tasks.append(claim.task ?? task)
            guard let reward = claim.reward, reward.value > 0 else {
                steps.add("ledger.task_reward", .skipped, "task \(task.taskId) has no reward")
                continue
            }
            var value = reward.value
            var reason = "task \(task.taskId) (\(task.periodKey))"
            var metadata = ["flow": flow, "event_id": eventID]
            if reward.asset == "points" {
                if !tierRead {
                    multiplier = try await pointsMultiplier(level: level)
                    tierRead = true
                }
                if let tier = multiplier {
                    value = tier.apply(to: value)
                    reason += " x\(tier.description) (tier)"
                    metadata["points_multiplier"] = tier.description
                }
            }
            let transfer = LedgerPayer.reward(
                id: claim.claimId.isEmpty ? key : claim.claimId, user: user,
                reward: FlowConfiguration.Reward(value: value, asset: reward.asset),
                budget: configuration.taskRewards.budget, kind: .taskReward,
                expiresAtMs: LedgerPayer.expiry(base: base, days: configuration.taskRewards.expiresAfterDays, now: now),
                reason: reason, metadata: metadata)
            switch try await pay(transfer) {
            case .paid(let result, let replayed, let detail):
                rewards.transfers.append(result)
                steps.ran("ledger.task_reward", replayed: replayed, detail)
            case .refused(let result):
                throw FlowError.paymentRefused(
                    "task reward \(transfer.transferId) refused by the ledger: \(result.code) \(result.message); the claim stands and a retry pays it once the budget '\(configuration.taskRewards.budget)' is raised",
                    result: result.code)
            }
        }
        return rewards
    }

    /// The `points_multiplier` of the tier at `level`; nil when it grants none.
    func pointsMultiplier(level: UInt32) async throws -> PointsMultiplier? {
        let tiers = try await backend.call(Retain_V1_Growth.getLevelTiers, Retain_V1_GetLevelTiersRequest(), .read)
        let value = tiers.tiers.first { $0.level == level }?.privileges.first { $0.name == PointsMultiplier.privilege }?.value
        return value.flatMap(PointsMultiplier.init)
    }

    /// When the lots a flow pays start to count: the action's time, or the start of today (UTC)
    /// when it has none, so that a retry later the same day computes the same transfer body.
    public static func lotBase(occurredAtMs: Int64, now: Int64) -> Int64 {
        occurredAtMs != 0 ? occurredAtMs : now - now % 86_400_000
    }
}
