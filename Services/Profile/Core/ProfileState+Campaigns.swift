public import RetainProto
import RetainMoves
import RetainWebhooks

extension ProfileState {
    /// Users one EnrollCampaignMembers may name.
    public static let maxEnrollment = 10_000

    // MARK: Definitions

    /// Decides a (validated) CreateCampaign: the entry that creates it, or the stored definition
    /// when the same one exists (a retry: no entry). `start_at_ms` 0 means `now`.
    /// `.exists` when another definition holds the id.
    public func planCreateCampaign(
        _ definition: Retain_V1_Campaign, actor: String, now: Int64
    ) throws(ProfileError) -> (entry: Retain_V1_ProfileLogEntry?, response: Retain_V1_CreateCampaignResponse) {
        if let stored = campaigns[definition.campaignId]?.definition {
            var same = definition
            same.createdBy = stored.createdBy
            same.createdAtMs = stored.createdAtMs
            if same.startAtMs == 0 { same.startAtMs = stored.startAtMs }
            guard same == stored else {
                throw ProfileError.exists("campaign '\(definition.campaignId)' exists with another definition")
            }
            return (nil, Retain_V1_CreateCampaignResponse(campaign: stored, replayed: true))
        }
        if !definition.webhookSubscriptionId.isEmpty, webhooks.subscription(definition.webhookSubscriptionId) == nil {
            throw ProfileError.invalid(
                field: "campaign.webhook_subscription_id",
                reason: "no Profile webhook subscription '\(definition.webhookSubscriptionId)' (retain webhook subscribe --service profile)"
            )
        }
        var created = definition
        created.createdBy = actor
        created.createdAtMs = now
        if created.startAtMs == 0 { created.startAtMs = now }
        guard created.endAtMs > created.startAtMs else {
            throw ProfileError.invalid(field: "campaign.end_at_ms", reason: "must be after start_at_ms (\(created.startAtMs))")
        }
        return (
            Retain_V1_ProfileLogEntry(campaignChange: Retain_V1_ProfileCampaignChange(created: created, atMs: now)),
            Retain_V1_CreateCampaignResponse(campaign: created, replayed: false)
        )
    }

    /// The entry that marks campaign `id` enrolled or cancelled (nil when it already is).
    /// `.notFound` for an unknown campaign.
    public func planCampaignFlag(
        _ id: String, cancel: Bool, now: Int64
    ) throws(ProfileError) -> Retain_V1_ProfileLogEntry? {
        guard let campaign = campaigns[id] else { throw ProfileError.notFound(what: "campaign", id: id) }
        if cancel {
            guard !campaign.cancelled else { return nil }
            return Retain_V1_ProfileLogEntry(campaignChange: Retain_V1_ProfileCampaignChange(cancelled: id, atMs: now))
        }
        guard !campaign.enrolled else { return nil }
        return Retain_V1_ProfileLogEntry(campaignChange: Retain_V1_ProfileCampaignChange(enrolled: id, atMs: now))
    }

    mutating func applyCampaignChange(_ change: Retain_V1_ProfileCampaignChange) throws(ProfileError) {
        if let created = change.created {
            guard campaigns[created.campaignId] == nil else { return }
            campaigns[created.campaignId] = CampaignRecord(definition: created)
        } else if !change.enrolled.isEmpty {
            guard campaigns[change.enrolled] != nil else { throw ProfileError.corrupt("unknown campaign '\(change.enrolled)'") }
            campaigns[change.enrolled]!.enrolled = true
        } else if !change.cancelled.isEmpty {
            guard let campaign = campaigns[change.cancelled] else {
                throw ProfileError.corrupt("unknown campaign '\(change.cancelled)'")
            }
            guard !campaign.cancelled else { return }
            campaigns[change.cancelled]!.cancelled = true
            campaigns[change.cancelled]!.cancelledAtMs = change.atMs
        } else {
            throw ProfileError.corrupt("empty campaign change")
        }
    }

    // MARK: Enrolment and touches

    /// Decides a (validated) EnrollCampaignMembers: unknown and deleted users are skipped,
    /// users already enrolled (or named twice) are left alone, every other user gets the group
    /// of their hash and, once the campaign has started, each treated one a touch on the
    /// cheapest channel `policy` allows (or a refusal with its reason). Nil entry when nobody is
    /// new. `.notFound` for an unknown campaign, `.refused` for a cancelled or ended one.
    public func planEnrollment(
        _ request: Retain_V1_EnrollCampaignMembersRequest, policy: Retain_V1_ContactPolicy, now: Int64
    ) throws(ProfileError) -> (
        entry: Retain_V1_ProfileLogEntry?, response: Retain_V1_EnrollCampaignMembersResponse,
        skipped: [(position: Int, error: ProfileError)]
    ) {
        let campaign = try openCampaign(request.campaignId, now: now)
        var response = Retain_V1_EnrollCampaignMembersResponse()
        var enrollment = Retain_V1_ProfileCampaignEnrollment(campaignId: request.campaignId, atMs: now)
        var touches: [Retain_V1_ProfileCampaignTouch] = []
        var seen = Set<Int32>()
        var skipped: [(position: Int, error: ProfileError)] = []
        let touching = campaign.touching(at: now)
        for (position, userID) in request.userIds.enumerated() {
            guard let userIndex = userIndex(userID), !isDeleted(userIndex) else {
                skipped.append((position, .notFound(what: "user", id: userID)))
                continue
            }
            guard campaign.positions[userIndex] == nil, seen.insert(userIndex).inserted else {
                response.alreadyEnrolled += 1
                continue
            }
            let group = CampaignRecord.group(
                campaignID: request.campaignId, userID: userID, holdoutBasisPoints: campaign.definition.holdoutBasisPoints)
            enrollment.userIds.append(userID)
            enrollment.groups.append(group)
            if group == .holdout {
                response.holdout += 1
                continue
            }
            response.treated += 1
            if touching {
                let touch = campaignTouch(campaign, userIndex: userIndex, userID: userID, touch: 1, policy: policy, now: now)
                if touch.record?.recorded == true { response.touched += 1 }
                touches.append(touch)
            }
        }
        guard !enrollment.userIds.isEmpty else { return (nil, response, skipped) }
        if !touches.isEmpty { enrollment.touches = touchesEntry(request.campaignId, touches, policy: policy, now: now) }
        return (Retain_V1_ProfileLogEntry(campaignEnrollment: enrollment), response, skipped)
    }

    /// Decides a TouchCampaignMembers: the treated members due a touch at `now`, in enrolment
    /// order, at most `limit`, each touched on the cheapest allowed channel or refused (and
    /// due again when the policy allows, else a day later). Nil entry when nobody is due.
    public func planTouches(
        campaignID: String, limit: Int, policy: Retain_V1_ContactPolicy, now: Int64
    ) throws(ProfileError) -> (entry: Retain_V1_ProfileLogEntry?, response: Retain_V1_TouchCampaignMembersResponse) {
        guard let campaign = campaigns[campaignID] else { throw ProfileError.notFound(what: "campaign", id: campaignID) }
        var response = Retain_V1_TouchCampaignMembersResponse()
        guard campaign.touching(at: now) else { return (nil, response) }
        var touches: [Retain_V1_ProfileCampaignTouch] = []
        for position in campaign.members.indices where campaign.isDue(position, at: now) {
            let member = campaign.members[position]
            // A fenced member's state is moving: it is touched at its new owner.
            guard !isDeleted(member.userIndex), !fences.contains(users[Int(member.userIndex)].id) else { continue }
            guard touches.count < limit else {
                response.more = true
                break
            }
            let user = users[Int(member.userIndex)]
            let touch = campaignTouch(
                campaign, userIndex: member.userIndex, userID: user.id, touch: Int(member.touches) + 1, policy: policy, now: now)
            if touch.record?.recorded == true { response.touched += 1 } else { response.refused += 1 }
            touches.append(touch)
        }
        guard !touches.isEmpty else { return (nil, response) }
        return (
            Retain_V1_ProfileLogEntry(campaignTouches: touchesEntry(campaignID, touches, policy: policy, now: now)),
            response
        )
    }

    /// The campaign `id`, refusing a cancelled or ended one.
    private func openCampaign(_ id: String, now: Int64) throws(ProfileError) -> CampaignRecord {
        guard let campaign = campaigns[id] else { throw ProfileError.notFound(what: "campaign", id: id) }
        guard !campaign.cancelled else { throw ProfileError.refused("campaign '\(id)' is cancelled") }
        guard now < campaign.definition.endAtMs else { throw ProfileError.refused("campaign '\(id)' has ended") }
        return campaign
    }

    /// One member's touch: the cheapest channel the policy allows now, recorded, or the
    /// refusal with the time the member is due again.
    private func campaignTouch(
        _ campaign: CampaignRecord, userIndex: Int32, userID: String, touch: Int, policy: Retain_V1_ContactPolicy, now: Int64
    ) -> Retain_V1_ProfileCampaignTouch {
        let id = campaign.definition.campaignId
        let check = checkContact(userIndex, channels: campaign.definition.channels, campaign: id, at: now, policy: policy)
        let chosen = check.decisions.first { $0.channel == check.channel && check.allowed }
        var record = Retain_V1_ProfileContactRecord(
            contactId: CampaignRecord.contactID(campaignID: id, userID: userID, touch: touch), sentAtMs: now,
            channel: check.allowed ? check.channel : .unspecified, campaignId: id, recorded: check.allowed,
            reason: check.allowed ? .allowed : check.reason)
        var retryAt: Int64 = 0
        if let chosen {
            record.sentToday = chosen.sentToday + 1
            record.sentThisWeek = chosen.sentThisWeek + 1
        } else {
            let waits = check.decisions.map(\.retryAfterMs).filter { $0 > now }
            retryAt = waits.min() ?? now + 86_400_000
        }
        return Retain_V1_ProfileCampaignTouch(userId: userID, record: record, retryAtMs: retryAt)
    }

    /// The entry part holding `touches`, with the horizon contact histories are pruned to.
    private func touchesEntry(
        _ campaignID: String, _ touches: [Retain_V1_ProfileCampaignTouch], policy: Retain_V1_ContactPolicy, now: Int64
    ) -> Retain_V1_ProfileCampaignTouches {
        let longestWindow = max(policy.defaultCampaignWindowMs, policy.campaignWindowMs.values.max() ?? 0)
        let horizon = max(8 * ZoneCalendar.dayMilliseconds, longestWindow + ZoneCalendar.dayMilliseconds)
        return Retain_V1_ProfileCampaignTouches(
            campaignId: campaignID, touches: touches, atMs: now, pruneBeforeMs: now - horizon)
    }

    mutating func applyCampaignEnrollment(_ entry: Retain_V1_ProfileCampaignEnrollment) throws(ProfileError) {
        guard campaigns[entry.campaignId] != nil else { throw ProfileError.corrupt("unknown campaign '\(entry.campaignId)'") }
        guard entry.groups.count == entry.userIds.count else {
            throw ProfileError.corrupt(
                "campaign enrolment of '\(entry.campaignId)' has \(entry.groups.count) groups for \(entry.userIds.count) users")
        }
        for (userID, group) in zip(entry.userIds, entry.groups) {
            guard let userIndex = userIndex(userID) else { throw ProfileError.corrupt("enrolment of unknown user '\(userID)'") }
            guard campaigns[entry.campaignId]!.positions[userIndex] == nil else { continue }
            campaigns[entry.campaignId]!.positions[userIndex] = Int32(campaigns[entry.campaignId]!.members.count)
            campaigns[entry.campaignId]!.members.append(
                CampaignMemberState(userIndex: userIndex, group: group, enrolledAtMs: entry.atMs))
        }
        if let touches = entry.touches { try applyCampaignTouches(touches) }
    }

    mutating func applyCampaignTouches(_ entry: Retain_V1_ProfileCampaignTouches) throws(ProfileError) {
        guard campaigns[entry.campaignId] != nil else { throw ProfileError.corrupt("unknown campaign '\(entry.campaignId)'") }
        for touch in entry.touches {
            guard let record = touch.record, let userIndex = userIndex(touch.userId),
                let position = campaigns[entry.campaignId]!.positions[userIndex].map(Int.init)
            else { throw ProfileError.corrupt("campaign touch of a user who is not a member: '\(touch.userId)'") }
            if record.recorded {
                var records = contacts[userIndex] ?? []
                if !records.contains(where: { $0.contactId == record.contactId }) {
                    records.removeAll { $0.sentAtMs < entry.pruneBeforeMs }
                    records.append(record)
                    contacts[userIndex] = records
                }
                campaigns[entry.campaignId]!.members[position].touches += 1
                campaigns[entry.campaignId]!.channelTouches[record.channel.rawValue, default: 0] += 1
                campaigns[entry.campaignId]!.members[position].lastChannel = record.channel
                campaigns[entry.campaignId]!.members[position].lastTouchAtMs = record.sentAtMs
                campaigns[entry.campaignId]!.members[position].lastRefusal = .allowed
                campaigns[entry.campaignId]!.members[position].retryAtMs = 0
                webhooks.enqueue(
                    Self.campaignMessage(
                        campaigns[entry.campaignId]!.definition, userID: touch.userId, record: record,
                        touch: Int(campaigns[entry.campaignId]!.members[position].touches)),
                    service: Self.webhookService, to: campaigns[entry.campaignId]!.definition.webhookSubscriptionId.nonEmpty)
            } else {
                campaigns[entry.campaignId]!.members[position].lastRefusal = record.reason
                campaigns[entry.campaignId]!.members[position].retryAtMs = touch.retryAtMs
            }
        }
    }

    // MARK: Returns

    /// Marks the returns of one accepted event: in every campaign the user is a member of, the
    /// first event of the campaign's return kind that occurred at or after the enrolment and
    /// while the campaign counts returns. A treated member's return joins the returns the
    /// reward is paid from.
    mutating func recordCampaignReturn(_ userIndex: Int32, kind: String, atMs: Int64) {
        // Through the values' indices: no copy of the keys or of a campaign per event.
        var index = campaigns.values.startIndex
        while index != campaigns.values.endIndex {
            defer { campaigns.values.formIndex(after: &index) }
            guard campaigns.values[index].countsReturn(at: atMs),
                let position = campaigns.values[index].positions[userIndex].map(Int.init)
            else { continue }
            let member = campaigns.values[index].members[position]
            guard member.returnedAtMs == 0, atMs >= member.enrolledAtMs, kind == campaigns.values[index].returnKind else { continue }
            campaigns.values[index].members[position].returnedAtMs = atMs
            if member.group == .treated { campaigns.values[index].returns.append(Int32(position)) }
        }
    }

    // MARK: Views

    /// Campaign `id`'s definition and progress on this shard; `.notFound` when unknown.
    public func campaignStatus(_ id: String) throws(ProfileError) -> Retain_V1_GetCampaignResponse {
        guard let campaign = campaigns[id] else { throw ProfileError.notFound(what: "campaign", id: id) }
        return Self.status(campaign)
    }

    /// Every campaign's status, by id.
    public func campaignList() -> Retain_V1_ListCampaignsResponse {
        Retain_V1_ListCampaignsResponse(campaigns: campaigns.keys.sorted().map { Self.status(campaigns[$0]!) })
    }

    private static func status(_ campaign: CampaignRecord) -> Retain_V1_GetCampaignResponse {
        var status = Retain_V1_GetCampaignResponse(
            campaign: campaign.definition, members: UInt64(campaign.members.count), enrolled: campaign.enrolled,
            cancelled: campaign.cancelled)
        for member in campaign.members {
            if member.touches > 0 { status.touched += 1 }
            if member.returnedAtMs != 0 { status.returned += 1 }
        }
        return status
    }

    /// The treated members of `id` who came back after position `after`, at most `limit`.
    public func campaignReturns(_ id: String, after: UInt64, limit: Int) throws(ProfileError) -> Retain_V1_ListCampaignReturnsResponse {
        guard let campaign = campaigns[id] else { throw ProfileError.notFound(what: "campaign", id: id) }
        var response = Retain_V1_ListCampaignReturnsResponse(headPosition: UInt64(campaign.returns.count))
        guard after < UInt64(campaign.returns.count) else { return response }
        let end = min(campaign.returns.count, Int(after) + limit)
        for offset in Int(after)..<end {
            let member = campaign.members[Int(campaign.returns[offset])]
            response.returns.append(
                Retain_V1_CampaignReturn(
                    position: UInt64(offset + 1), userId: users[Int(member.userIndex)].id, returnedAtMs: member.returnedAtMs))
        }
        return response
    }

    /// User `userID`'s part in campaign `id`; `.notFound` for an unknown user or campaign, or a
    /// user who is not a member.
    public func campaignMember(userID: String, campaignID id: String) throws(ProfileError) -> Retain_V1_CampaignMember {
        guard let campaign = campaigns[id] else { throw ProfileError.notFound(what: "campaign", id: id) }
        guard let userIndex = userIndex(userID) else { throw ProfileError.notFound(what: "user", id: userID) }
        guard let position = campaign.positions[userIndex] else {
            throw ProfileError.notFound(what: "member of campaign '\(id)'", id: userID)
        }
        let member = campaign.members[Int(position)]
        return Retain_V1_CampaignMember(
            userId: userID, group: member.group, enrolledAtMs: member.enrolledAtMs, touches: UInt32(member.touches),
            lastChannel: member.lastChannel, lastTouchAtMs: member.lastTouchAtMs, returnedAtMs: member.returnedAtMs,
            lastRefusal: member.lastRefusal, retryAtMs: member.retryAtMs)
    }

    /// The results of campaign `id` on this shard: members and returns per group, touches per
    /// channel priced by `policy`, and every figure computed from those counts.
    public func campaignResults(_ id: String, policy: Retain_V1_ContactPolicy) throws(ProfileError) -> Retain_V1_GetCampaignResultsResponse
    {
        guard let campaign = campaigns[id] else { throw ProfileError.notFound(what: "campaign", id: id) }
        var treated = Retain_V1_CampaignGroupResult()
        var holdout = Retain_V1_CampaignGroupResult()
        var response = Retain_V1_GetCampaignResultsResponse(campaignId: id)
        for member in campaign.members {
            let returned: UInt64 = member.returnedAtMs != 0 ? 1 : 0
            if member.group == .holdout {
                holdout.members += 1
                holdout.returned += returned
                continue
            }
            treated.members += 1
            treated.returned += returned
            if member.touches > 0 { response.touched += 1 }
            response.touches += UInt64(member.touches)
        }
        response.channels = campaign.channelTouches.keys.sorted().map { raw in
            let channel = Retain_V1_ContactChannel(rawValue: raw)
            let touches = campaign.channelTouches[raw]!
            let cost = policy.channels.first { $0.channel == channel }?.cost ?? 0
            return Retain_V1_ChannelTouches(channel: channel, touches: touches, cost: UInt64(cost) * touches)
        }
        response.treated = treated
        response.holdout = holdout
        if let reward = campaign.definition.reward, reward.value > 0 {
            response.rewardsDue = Retain_V1_Amount(value: reward.value * Int64(treated.returned), asset: reward.asset)
        }
        response.computeStatistics()
        return response
    }
}
