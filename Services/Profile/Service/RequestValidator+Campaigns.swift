package import RetainProto
package import RetainWire

/// The rules of `profile.proto` for recall campaigns.
extension RequestValidator {
    /// Most touches a campaign may give one user.
    package static let maximumTouches: UInt32 = 10

    /// A campaign definition as CreateCampaign takes it.
    package func validate(_ campaign: Retain_V1_Campaign?, _ field: String = "campaign") throws(RPCError) {
        guard let campaign else { throw RPCError.invalidArgument(field: field, "is required") }
        try entityID(campaign.campaignId, "\(field).campaign_id")
        try text(campaign.description, "\(field).description", limit: 256)
        try text(campaign.segment, "\(field).segment", limit: 128)
        guard campaign.holdoutBasisPoints <= 9_000 else {
            throw RPCError.invalidArgument(field: "\(field).holdout_basis_points", "must be at most 9,000 (90%)")
        }
        guard campaign.startAtMs >= 0 else { throw RPCError.invalidArgument(field: "\(field).start_at_ms", "must not be negative") }
        guard campaign.endAtMs > max(campaign.startAtMs, campaign.startAtMs == 0 ? now : 0) else {
            throw RPCError.invalidArgument(field: "\(field).end_at_ms", "must be after the start (and after now when the start is now)")
        }
        guard !campaign.channels.isEmpty, campaign.channels.count <= 5 else {
            throw RPCError.invalidArgument(field: "\(field).channels", "must name 1 to 5 candidate channels")
        }
        for (position, channel) in campaign.channels.enumerated() { try self.channel(channel, "\(field).channels[\(position)]") }
        try optionalName(campaign.returnKind, "\(field).return_kind")
        guard campaign.maxTouches <= Self.maximumTouches else {
            throw RPCError.invalidArgument(field: "\(field).max_touches", "must be at most \(Self.maximumTouches)")
        }
        guard campaign.touchIntervalDays <= 90 else {
            throw RPCError.invalidArgument(field: "\(field).touch_interval_days", "must be at most 90")
        }
        if let reward = campaign.reward, reward.value != 0 || !reward.asset.isEmpty {
            guard reward.value > 0 else { throw RPCError.invalidArgument(field: "\(field).reward.value", "must be positive") }
            try FieldFormat.requireAmount(reward.value, field: "\(field).reward.value")
            try name(reward.asset, "\(field).reward.asset")
            try entityID(campaign.rewardBudget, "\(field).reward_budget")
        }
        try text(campaign.message, "\(field).message", limit: 4096)
    }

    /// A list of users to enroll.
    package func validate(_ request: Retain_V1_EnrollCampaignMembersRequest, maximum: Int) throws(RPCError) {
        try entityID(request.campaignId, "campaign_id")
        guard !request.userIds.isEmpty, request.userIds.count <= maximum else {
            throw RPCError.invalidArgument(field: "user_ids", "must hold 1 to \(maximum) users")
        }
        for (position, user) in request.userIds.enumerated() { try entityID(user, "user_ids[\(position)]") }
    }
}
