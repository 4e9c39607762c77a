import ProfileCore
import RetainAuth
import RetainClock
import RetainMoves
import RetainProto
import RetainRPC
import RetainServiceKit
import RetainState
import RetainWire

extension ProfileRouter {
    /// Recall campaigns (docs/CAMPAIGNS.md). The writes need the admin scope, checked by the RPC
    /// runtime (RetainAuth's MethodAccessTable).
    func registerCampaignMethods(_ router: inout RPCRouter) {
        let clock = clock
        let defaultPolicy = defaultPolicy
        router.profileWrite(Retain_V1_Profile.createCampaign, to: store) { request, context, transaction in
            let now = clock.now()
            try validator(now: now).validate(request.campaign)
            let plan = try transaction.state.planCreateCampaign(request.campaign!, actor: context.caller?.id ?? "", now: now)
            if let entry = plan.entry { try transaction.log(entry) }
            return plan.response
        }
        router.profileRead(Retain_V1_Profile.getCampaign, from: store) { request, context, state in
            try state.refuseReport(ringVersion: context.ringVersion)
            try validator(now: clock.now()).entityID(request.campaignId, "campaign_id")
            return try state.campaignStatus(request.campaignId)
        }
        router.profileRead(Retain_V1_Profile.listCampaigns, from: store) { _, context, state in
            try state.refuseReport(ringVersion: context.ringVersion)
            return state.campaignList()
        }
        router.profileWrite(Retain_V1_Profile.enrollCampaignMembers, to: store) { request, _, transaction in
            for user in request.userIds { try transaction.state.refuseIfMoved(user) }
            let now = clock.now()
            try validator(now: now).validate(request, maximum: ProfileState.maxEnrollment)
            var plan = try transaction.state.planEnrollment(
                request, policy: transaction.state.contactPolicy(default: defaultPolicy), now: now)
            if let entry = plan.entry { try transaction.log(entry) }
            plan.response.skipped = plan.skipped.map { $0.error.itemError(at: $0.position, field: "user_ids[\($0.position)]") }
            return plan.response
        }
        router.profileWrite(Retain_V1_Profile.markCampaignEnrolled, to: store) { request, _, transaction in
            let now = clock.now()
            try validator(now: now).entityID(request.campaignId, "campaign_id")
            if let entry = try transaction.state.planCampaignFlag(request.campaignId, cancel: false, now: now) {
                try transaction.log(entry)
            }
            return Retain_V1_MarkCampaignEnrolledResponse()
        }
        router.profileWrite(Retain_V1_Profile.cancelCampaign, to: store) { request, _, transaction in
            let now = clock.now()
            try validator(now: now).entityID(request.campaignId, "campaign_id")
            if let entry = try transaction.state.planCampaignFlag(request.campaignId, cancel: true, now: now) {
                try transaction.log(entry)
            }
            return Retain_V1_CancelCampaignResponse()
        }
        router.profileWrite(Retain_V1_Profile.touchCampaignMembers, to: store) { request, _, transaction in
            let now = clock.now()
            try validator(now: now).entityID(request.campaignId, "campaign_id")
            guard request.limit <= UInt32(ProfileState.maxEnrollment) else {
                throw RPCError.invalidArgument(field: "limit", "must be at most \(ProfileState.maxEnrollment)")
            }
            let plan = try transaction.state.planTouches(
                campaignID: request.campaignId, limit: request.limit == 0 ? 1_000 : Int(request.limit),
                policy: transaction.state.contactPolicy(default: defaultPolicy), now: now)
            if let entry = plan.entry { try transaction.log(entry) }
            return plan.response
        }
        router.profileRead(Retain_V1_Profile.listCampaignReturns, from: store) { request, context, state in
            try state.refuseReport(ringVersion: context.ringVersion)
            try validator(now: clock.now()).entityID(request.campaignId, "campaign_id")
            guard request.limit <= 10_000 else { throw RPCError.invalidArgument(field: "limit", "must be at most 10,000") }
            return try state.campaignReturns(
                request.campaignId, after: request.afterPosition, limit: request.limit == 0 ? 1_000 : Int(request.limit))
        }
        router.profileRead(Retain_V1_Profile.getCampaignMember, from: store) { request, _, state in
            try state.refuseIfMoved(request.userId)
            let validator = validator(now: clock.now())
            try validator.entityID(request.userId, "user_id")
            try validator.entityID(request.campaignId, "campaign_id")
            return Retain_V1_GetCampaignMemberResponse(
                member: try state.campaignMember(userID: request.userId, campaignID: request.campaignId))
        }
        router.profileRead(Retain_V1_Profile.getCampaignResults, from: store) { request, context, state in
            try state.refuseReport(ringVersion: context.ringVersion)
            try validator(now: clock.now()).entityID(request.campaignId, "campaign_id")
            return try state.campaignResults(request.campaignId, policy: state.contactPolicy(default: defaultPolicy))
        }
    }
}
