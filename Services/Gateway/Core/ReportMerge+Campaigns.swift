public import RetainProto

/// How the answers of Profile's shards about a recall campaign add up (docs/CAMPAIGNS.md).
extension ReportMerge {
    /// GetCampaign: the first answer's definition; members, touched and returned add up;
    /// enrolled only when every shard is, cancelled when any shard is.
    public static func campaignStatus(_ answers: [Retain_V1_GetCampaignResponse]) -> Retain_V1_GetCampaignResponse {
        var merged = answers.first ?? Retain_V1_GetCampaignResponse()
        for answer in answers.dropFirst() {
            merged.members += answer.members
            merged.touched += answer.touched
            merged.returned += answer.returned
            merged.enrolled = merged.enrolled && answer.enrolled
            merged.cancelled = merged.cancelled || answer.cancelled
        }
        return merged
    }

    /// ListCampaigns: merged by campaign_id (``campaignStatus(_:)`` per campaign), by id.
    public static func campaignList(_ answers: [Retain_V1_ListCampaignsResponse]) -> Retain_V1_ListCampaignsResponse {
        var byID: [String: [Retain_V1_GetCampaignResponse]] = [:]
        for answer in answers {
            for campaign in answer.campaigns { byID[campaign.campaign?.campaignId ?? "", default: []].append(campaign) }
        }
        return Retain_V1_ListCampaignsResponse(campaigns: byID.keys.sorted().map { campaignStatus(byID[$0]!) })
    }

    /// TouchCampaignMembers: touched and refused add up; more when any shard has more.
    public static func campaignTouches(_ answers: [Retain_V1_TouchCampaignMembersResponse]) -> Retain_V1_TouchCampaignMembersResponse {
        var merged = Retain_V1_TouchCampaignMembersResponse()
        for answer in answers {
            merged.touched += answer.touched
            merged.refused += answer.refused
            merged.more = merged.more || answer.more
        }
        return merged
    }

    /// GetCampaignResults: members and returns per group, touches and their cost per channel,
    /// and the rewards due add up; every figure is recomputed from the sums.
    public static func campaignResults(_ answers: [Retain_V1_GetCampaignResultsResponse]) -> Retain_V1_GetCampaignResultsResponse {
        var merged = Retain_V1_GetCampaignResultsResponse(campaignId: answers.first?.campaignId ?? "")
        var treated = Retain_V1_CampaignGroupResult()
        var holdout = Retain_V1_CampaignGroupResult()
        var channels: [Int32: Retain_V1_ChannelTouches] = [:]
        for answer in answers {
            treated.members += answer.treated?.members ?? 0
            treated.returned += answer.treated?.returned ?? 0
            holdout.members += answer.holdout?.members ?? 0
            holdout.returned += answer.holdout?.returned ?? 0
            merged.touched += answer.touched
            merged.touches += answer.touches
            for channel in answer.channels {
                channels[channel.channel.rawValue, default: Retain_V1_ChannelTouches(channel: channel.channel)].touches += channel.touches
                channels[channel.channel.rawValue]!.cost += channel.cost
            }
            if let due = answer.rewardsDue {
                merged.rewardsDue = Retain_V1_Amount(value: (merged.rewardsDue?.value ?? 0) + due.value, asset: due.asset)
            }
        }
        merged.treated = treated
        merged.holdout = holdout
        merged.channels = channels.keys.sorted().map { channels[$0]! }
        merged.computeStatistics()
        return merged
    }
}
