import RetainProto
import RetainState

/// Campaigns in snapshots: one or more ``Retain_V1_ProfileSnapshotCampaign`` records per
/// campaign, the first with the definition and the flags, each with a run of at most
/// ``membersPerRecord`` members in enrolment order, the last with the returns.
extension ProfileState {
    /// Members per campaign record.
    package static let membersPerRecord = 65_536

    func writeCampaigns(to sink: inout SnapshotSink) throws {
        for id in campaigns.keys.sorted() {
            let campaign = campaigns[id]!
            var start = 0
            repeat {
                let end = min(start + Self.membersPerRecord, campaign.members.count)
                let part = campaign.members[start..<end]
                var record = Retain_V1_ProfileSnapshotCampaign(
                    campaignId: id, userIndices: part.map { UInt32($0.userIndex) }, groups: part.map(\.group),
                    enrolledAtMs: part.map(\.enrolledAtMs), touches: part.map { UInt32($0.touches) },
                    lastChannels: part.map(\.lastChannel), lastTouchAtMs: part.map(\.lastTouchAtMs),
                    returnedAtMs: part.map(\.returnedAtMs), lastRefusals: part.map(\.lastRefusal),
                    retryAtMs: part.map(\.retryAtMs))
                if start == 0 {
                    record.definition = campaign.definition
                    record.enrolled = campaign.enrolled
                    record.cancelled = campaign.cancelled
                    record.cancelledAtMs = campaign.cancelledAtMs
                    record.channelTouches = campaign.channelTouches.keys.sorted().map {
                        Retain_V1_ChannelTouches(channel: Retain_V1_ContactChannel(rawValue: $0), touches: campaign.channelTouches[$0]!)
                    }
                }
                if end == campaign.members.count { record.returns = campaign.returns.map { UInt32($0) } }
                try sink.write(Retain_V1_ProfileSnapshotRecord(campaign: record))
                start = end
            } while start < campaign.members.count
        }
    }

    mutating func restoreCampaign(_ stored: Retain_V1_ProfileSnapshotCampaign) throws {
        let id = stored.campaignId
        let count = stored.userIndices.count
        guard
            [
                stored.groups.count, stored.enrolledAtMs.count, stored.touches.count, stored.lastChannels.count,
                stored.lastTouchAtMs.count, stored.returnedAtMs.count, stored.lastRefusals.count, stored.retryAtMs.count,
            ].allSatisfy({ $0 == count })
        else { throw StateRecoveryError("profile snapshot: campaign '\(id)' is malformed") }
        if let definition = stored.definition {
            guard campaigns[id] == nil else { throw StateRecoveryError("profile snapshot: campaign '\(id)' appears twice") }
            var campaign = CampaignRecord(definition: definition)
            campaign.enrolled = stored.enrolled
            campaign.cancelled = stored.cancelled
            campaign.cancelledAtMs = stored.cancelledAtMs
            for touches in stored.channelTouches { campaign.channelTouches[touches.channel.rawValue] = touches.touches }
            campaigns[id] = campaign
        }
        guard campaigns[id] != nil else { throw StateRecoveryError("profile snapshot: members of unknown campaign '\(id)'") }
        var campaign = campaigns.removeValue(forKey: id)!
        for position in 0..<count {
            let userIndex = Int32(stored.userIndices[position])
            guard Int(userIndex) < users.count, campaign.positions[userIndex] == nil else {
                throw StateRecoveryError("profile snapshot: campaign '\(id)' refers to unknown or repeated user \(userIndex)")
            }
            var member = CampaignMemberState(
                userIndex: userIndex, group: stored.groups[position], enrolledAtMs: stored.enrolledAtMs[position])
            member.touches = UInt8(clamping: stored.touches[position])
            member.lastChannel = stored.lastChannels[position]
            member.lastTouchAtMs = stored.lastTouchAtMs[position]
            member.returnedAtMs = stored.returnedAtMs[position]
            member.lastRefusal = stored.lastRefusals[position]
            member.retryAtMs = stored.retryAtMs[position]
            campaign.positions[userIndex] = Int32(campaign.members.count)
            campaign.members.append(member)
        }
        for position in stored.returns {
            guard Int(position) < campaign.members.count else {
                throw StateRecoveryError("profile snapshot: campaign '\(id)' has a return of unknown member \(position)")
            }
            campaign.returns.append(Int32(position))
        }
        campaigns[id] = campaign
    }
}
