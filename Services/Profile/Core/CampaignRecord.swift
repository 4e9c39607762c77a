package import RetainProto

/// One recall campaign as a shard keeps it: the definition, the members on this shard in
/// enrolment order, and the treated members who came back in the order they did (their
/// positions, from 1, are what ListCampaignReturns pages by).
package struct CampaignRecord: Sendable {
    /// The definition as created.
    package var definition: Retain_V1_Campaign
    /// Members in enrolment order.
    package var members: [CampaignMemberState] = []
    /// User index to position in ``members``.
    package var positions: [Int32: Int32] = [:]
    /// Positions in ``members`` of the treated members who came back, in the order they did.
    package var returns: [Int32] = []
    /// Touches recorded per channel (its raw value).
    package var channelTouches: [Int32: UInt64] = [:]
    /// Whether the whole audience was enrolled (MarkCampaignEnrolled).
    package var enrolled = false
    /// Whether it was cancelled: no touch, no return counted after.
    package var cancelled = false
    /// When it was cancelled, Unix ms (0: not cancelled).
    package var cancelledAtMs: Int64 = 0

    package init(definition: Retain_V1_Campaign) { self.definition = definition }

    /// The activity kind that counts as a return.
    package var returnKind: String { definition.returnKind.isEmpty ? "login" : definition.returnKind }

    /// Touches a treated member may get.
    package var maxTouches: UInt32 { max(definition.maxTouches, 1) }

    /// Milliseconds between a member's touches.
    package var touchIntervalMs: Int64 { Int64(max(definition.touchIntervalDays, 1)) * 86_400_000 }

    /// Whether a return at `atMs` still counts: not cancelled before it, and before the end.
    package func countsReturn(at atMs: Int64) -> Bool {
        atMs < definition.endAtMs && (!cancelled || atMs < cancelledAtMs)
    }

    /// Whether touching is allowed at `now`: started, not ended, not cancelled.
    package func touching(at now: Int64) -> Bool {
        !cancelled && now >= definition.startAtMs && now < definition.endAtMs
    }

    /// The group of a user: holdout when the bucket of (campaign, user) falls below the holdout
    /// share (``Experiment/bucket(experimentID:userID:)``: SHA-256 of "<campaign_id>:<user_id>").
    package static func group(campaignID: String, userID: String, holdoutBasisPoints: UInt32) -> Retain_V1_CampaignGroup {
        Experiment.bucket(experimentID: campaignID, userID: userID) < holdoutBasisPoints ? .holdout : .treated
    }

    /// Whether member `position` is due a touch at `now`: treated, not back, fewer touches than
    /// allowed, the interval since the last one has passed, and no refusal asks to wait longer.
    package func isDue(_ position: Int, at now: Int64) -> Bool {
        let member = members[position]
        guard member.group == .treated, member.returnedAtMs == 0, UInt32(member.touches) < maxTouches,
            now >= member.retryAtMs
        else { return false }
        return member.touches == 0 || now - member.lastTouchAtMs >= touchIntervalMs
    }

    /// The contact id of a member's `n`th touch (from 1): `campaign:<campaign_id>:<user_id>:<n>`.
    package static func contactID(campaignID: String, userID: String, touch: Int) -> String {
        "campaign:\(campaignID):\(userID):\(touch)"
    }
}

/// One member of a campaign on its shard.
package struct CampaignMemberState: Sendable, Equatable {
    /// The user.
    package var userIndex: Int32
    /// Treated or holdout.
    package var group: Retain_V1_CampaignGroup
    /// When enrolled, Unix ms.
    package var enrolledAtMs: Int64
    /// Touches recorded.
    package var touches: UInt8 = 0
    /// The latest touch's channel.
    package var lastChannel: Retain_V1_ContactChannel = .unspecified
    /// The latest touch's time (0: none).
    package var lastTouchAtMs: Int64 = 0
    /// When the user came back (0: not yet).
    package var returnedAtMs: Int64 = 0
    /// Why the latest touch attempt was refused (`.allowed` when it was not).
    package var lastRefusal: Retain_V1_ContactDecisionReason = .allowed
    /// After a refusal, when the next attempt is due (0: none pending).
    package var retryAtMs: Int64 = 0

    package init(userIndex: Int32, group: Retain_V1_CampaignGroup, enrolledAtMs: Int64) {
        self.userIndex = userIndex
        self.group = group
        self.enrolledAtMs = enrolledAtMs
    }
}
