import RetainProto

/// How the gateway answers a call that is not about one user when the service has several
/// shards: which shards it goes to and how their answers merge (docs/CLUSTER.md). Calls about
/// one user (`user_id` = field 1) go to the user's shard and have no rule, except GetRank
/// (``rank``).
public enum ScatterRule: Sendable, Equatable {
    /// One shard answers (the same on every shard: configuration).
    case anyShard
    /// Every shard; the shard's answer that is not NOT_FOUND (the shard that holds the item).
    case itemOwner
    /// Every shard must succeed (a setting every shard keeps); the first shard's answer.
    case everyShard
    /// Split by the owner of each item (a batch of several users' items).
    case activityBatch
    /// Refused: a stream whose positions belong to one shard.
    case oneShardStream
    /// One shard answers about its own users only (Profile.MatchSegmentRule): the gateway's
    /// saved-segment operations call it on every shard themselves.
    case shardLocal
    /// A batch of users split by each user's owner, the answers put back in request order
    /// (Growth.GetLevels).
    case levelBatch
    case countSegment
    case listSegment
    case retention
    case activeUsers
    case funnel
    case experimentResults
    case churnWarnings
    case contactPolicy
    case leaderboard
    /// Every shard; users per level add up (Growth.GetLevelDistribution).
    case levelDistribution
    case listFeedback
    case listOverdue
    case faq
    case feedbackStats
    case boardPosition
    /// Refused: positions that belong to one shard (ListCampaignReturns).
    case shardPositions
    /// Split by the owner of each user (EnrollCampaignMembers), every part must succeed.
    case campaignEnrollment
    case campaignStatus
    case campaignList
    case campaignTouches
    case campaignResults
    /// Every shard must succeed, with one subscription id and secret chosen by the gateway
    /// (Webhooks.CreateSubscription).
    case webhookSubscribe
    case webhookSubscriptions
    /// Every shard must succeed (Webhooks.DeleteSubscription, Webhooks.Redeliver), answers added.
    case webhookDelete
    case webhookRedeliver
    case webhookDeliveries
    case webhookDeadLetters
    /// A call about one user that every shard helps answer: GetRank, the user's row from its
    /// shard and the users around it from every shard (``BoardPositionMerge``).
    case rank

    /// The rules by method path.
    public static let byPath: [String: ScatterRule] = {
        var table: [String: ScatterRule] = [
            Retain_V1_Profile.recordActivities.path: .activityBatch,
            Retain_V1_Profile.countSegment.path: .countSegment,
            Retain_V1_Profile.listSegment.path: .listSegment,
            Retain_V1_Profile.getRetention.path: .retention,
            Retain_V1_Profile.getActiveUsers.path: .activeUsers,
            Retain_V1_Profile.getFunnel.path: .funnel,
            Retain_V1_Profile.getExperimentResults.path: .experimentResults,
            Retain_V1_Profile.listChurnWarnings.path: .churnWarnings,
            Retain_V1_Profile.getContactPolicy.path: .contactPolicy,
            Retain_V1_Profile.setContactPolicy.path: .everyShard,
            Retain_V1_Profile.createCampaign.path: .everyShard,
            Retain_V1_Profile.markCampaignEnrolled.path: .everyShard,
            Retain_V1_Profile.cancelCampaign.path: .everyShard,
            Retain_V1_Profile.getCampaign.path: .campaignStatus,
            Retain_V1_Profile.listCampaigns.path: .campaignList,
            Retain_V1_Profile.enrollCampaignMembers.path: .campaignEnrollment,
            Retain_V1_Profile.touchCampaignMembers.path: .campaignTouches,
            Retain_V1_Profile.listCampaignReturns.path: .shardPositions,
            Retain_V1_Profile.getCampaignResults.path: .campaignResults,
            Retain_V1_Profile.putSavedSegment.path: .everyShard,
            Retain_V1_Profile.deleteSavedSegment.path: .everyShard,
            Retain_V1_Profile.getSavedSegment.path: .anyShard,
            Retain_V1_Profile.listSavedSegments.path: .anyShard,
            Retain_V1_Profile.matchSegmentRule.path: .shardLocal,
            Retain_V1_Growth.getLevels.path: .levelBatch,
            Retain_V1_Growth.getLevelTiers.path: .anyShard,
            Retain_V1_Growth.getLeaderboard.path: .leaderboard,
            Retain_V1_Growth.getLevelDistribution.path: .levelDistribution,
            Retain_V1_Growth.watchLevelChanges.path: .oneShardStream,
            Retain_V1_Growth.getBoardPosition.path: .boardPosition,
            Retain_V1_Growth.getRank.path: .rank,
            Retain_V1_Feedback.listFeedback.path: .listFeedback,
            Retain_V1_Feedback.listOverdue.path: .listOverdue,
            Retain_V1_Feedback.getFaq.path: .faq,
            Retain_V1_Feedback.getFeedbackStats.path: .feedbackStats,
        ]
        for method in [
            Retain_V1_Feedback.getFeedback.path, Retain_V1_Feedback.triageFeedback.path,
            Retain_V1_Feedback.assignFeedback.path, Retain_V1_Feedback.startProgress.path,
            Retain_V1_Feedback.resolveFeedback.path, Retain_V1_Feedback.closeFeedback.path,
            Retain_V1_Feedback.reopenFeedback.path, Retain_V1_Feedback.addComment.path,
            Retain_V1_Feedback.markCompensationPaid.path,
        ] {
            table[method] = .itemOwner
        }
        table.merge(ServiceAddressedCalls.rules) { own, _ in own }
        return table
    }()

    /// The sharded services: each user's state lives on one shard of these. The ledger is one
    /// writer by design (docs/CLUSTER.md) and is not among them.
    public static let shardedServices: Set<String> = ["retain.v1.Profile", "retain.v1.Growth", "retain.v1.Feedback"]

    /// The rule of the method at `path`; nil for a call about one user (but GetRank), or a
    /// method the table does not know (which keeps the one-instance routing).
    public static func rule(for path: String) -> ScatterRule? { byPath[path] }
}
