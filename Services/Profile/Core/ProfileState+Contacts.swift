import RetainState
public import RetainProto

extension ProfileState {
    /// The contact policy in force: the one set through SetContactPolicy, else `default`.
    public func contactPolicy(default defaultPolicy: Retain_V1_ContactPolicy) -> Retain_V1_ContactPolicy {
        storedPolicy ?? defaultPolicy
    }

    /// The calendar of a user's time zone (else the policy's default zone, else UTC).
    private func contactCalendar(_ user: UserRecord, policy: Retain_V1_ContactPolicy) -> ZoneCalendar {
        let zone = symbols[user.timeZone]
        return ZoneCalendar.named(zone.isEmpty ? policy.defaultTimeZone : zone) ?? .utc
    }

    /// Whether `campaign` may touch the user at `at` on each of `channels`, and the cheapest
    /// allowed channel (ties: the earlier candidate). A deleted user is refused on every channel.
    public func checkContact(
        _ userIndex: Int32, channels: [Retain_V1_ContactChannel], campaign: String, at: Int64,
        policy: Retain_V1_ContactPolicy
    ) -> Retain_V1_CheckContactResponse {
        let user = users[Int(userIndex)]
        var decisions: [Retain_V1_ChannelDecision] = []
        if user.isDeleted {
            decisions = channels.map { Retain_V1_ChannelDecision(channel: $0, reason: .userDeleted) }
        } else {
            let rules = ContactRules(
                policy: policy, calendar: contactCalendar(user, policy: policy),
                records: contacts[userIndex] ?? [])
            decisions = channels.map { rules.decide(channel: $0, campaign: campaign, at: at) }
        }
        var best: Retain_V1_ChannelDecision?
        for decision in decisions where decision.allowed {
            if best == nil || decision.cost < best!.cost { best = decision }
        }
        let shown = best ?? decisions.first ?? Retain_V1_ChannelDecision(reason: .channelDisabled)
        return Retain_V1_CheckContactResponse(
            allowed: best != nil, channel: best?.channel ?? .unspecified, reason: shown.reason,
            message: ContactRules.describe(shown, policy: policy), decisions: decisions)
    }

    /// What a RecordContact does.
    public enum ContactPlan: Sendable {
        /// Log this entry, then answer.
        case record(Retain_V1_ProfileLogEntry, Retain_V1_RecordContactResponse)
        /// Answer without logging (a retry, or a deleted user).
        case answer(Retain_V1_RecordContactResponse)
    }

    /// Decides a (validated) RecordContact: a retry of the same contact_id and body answers the
    /// first outcome; the same contact_id with another body is `.exists`; with `check`, the
    /// caps decide whether the touch is recorded. `.notFound` for an unknown user.
    ///
    /// - Parameter now: The server's clock; the send time when the request gives none.
    public func planContact(
        _ request: Retain_V1_RecordContactRequest, policy: Retain_V1_ContactPolicy, now: Int64
    ) throws(ProfileError) -> ContactPlan {
        guard let userIndex = userIndex(request.userId) else { throw ProfileError.notFound(what: "user", id: request.userId) }
        let user = users[Int(userIndex)]
        var hasher = StableHash()
        hasher.combine(request.contactId)
        hasher.combine(Int64(request.channel.rawValue))
        hasher.combine(request.campaignId)
        hasher.combine(request.sentAtMs)
        hasher.combine(UInt64(request.check ? 1 : 0))
        let fingerprint = hasher.value
        let records = contacts[userIndex] ?? []
        if let earlier = records.first(where: { $0.contactId == request.contactId }) {
            guard earlier.fingerprint == fingerprint else {
                throw ProfileError.exists("contact_id '\(request.contactId)' was already used for another touch")
            }
            return .answer(Self.answer(earlier, replayed: true, policy: policy))
        }
        if user.isDeleted {
            return .answer(
                Retain_V1_RecordContactResponse(
                    recorded: false, reason: .userDeleted, message: "the user is deleted; campaigns may not contact them"))
        }
        let sentAt = request.sentAtMs == 0 ? now : request.sentAtMs
        let rules = ContactRules(policy: policy, calendar: contactCalendar(user, policy: policy), records: records)
        let decision = rules.decide(channel: request.channel, campaign: request.campaignId, at: sentAt)
        var record = Retain_V1_ProfileContactRecord(
            contactId: request.contactId, fingerprint: fingerprint, sentAtMs: sentAt, channel: request.channel,
            campaignId: request.campaignId, recorded: true, reason: .allowed,
            sentToday: decision.sentToday + 1, sentThisWeek: decision.sentThisWeek + 1)
        if request.check, !decision.allowed {
            record.recorded = false
            record.reason = decision.reason
            record.sentToday = decision.sentToday
            record.sentThisWeek = decision.sentThisWeek
        }
        var logged = request
        logged.sentAtMs = sentAt
        let longestWindow = max(policy.defaultCampaignWindowMs, policy.campaignWindowMs.values.max() ?? 0)
        let horizon = max(8 * ZoneCalendar.dayMilliseconds, longestWindow + ZoneCalendar.dayMilliseconds)
        let entry = Retain_V1_ProfileLogEntry(
            contactTouch: Retain_V1_ProfileContactTouch(
                request: logged, record: record, atMs: now, pruneBeforeMs: min(now, sentAt) - horizon))
        return .record(entry, Self.answer(record, replayed: false, policy: policy))
    }

    private static func answer(
        _ record: Retain_V1_ProfileContactRecord, replayed: Bool, policy: Retain_V1_ContactPolicy
    ) -> Retain_V1_RecordContactResponse {
        let decision = Retain_V1_ChannelDecision(
            channel: record.channel, allowed: record.recorded, reason: record.reason,
            sentToday: record.sentToday, sentThisWeek: record.sentThisWeek)
        return Retain_V1_RecordContactResponse(
            recorded: record.recorded, reason: record.reason,
            message: record.recorded ? "touch recorded" : ContactRules.describe(decision, policy: policy),
            replayed: replayed, sentToday: record.sentToday, sentThisWeek: record.sentThisWeek)
    }

    mutating func applyContactTouch(_ entry: Retain_V1_ProfileContactTouch) throws(ProfileError) {
        guard let request = entry.request, let record = entry.record, let userIndex = userIndex(request.userId) else {
            throw ProfileError.notFound(what: "user", id: entry.request?.userId ?? "")
        }
        var records = contacts[userIndex] ?? []
        guard !records.contains(where: { $0.contactId == record.contactId }) else { return }
        records.removeAll { $0.sentAtMs < entry.pruneBeforeMs }
        records.append(record)
        contacts[userIndex] = records
    }

    /// The log entry for a new (validated) contact policy, or `.versionMismatch` when `expectedVersion`
    /// is set and differs from the version in force (0 for the configured default).
    public func planPolicyChange(
        _ policy: Retain_V1_ContactPolicy, expectedVersion: UInt64, actor: String, now: Int64
    ) throws(ProfileError) -> Retain_V1_ProfileLogEntry {
        let current = storedPolicy?.version ?? 0
        guard expectedVersion == 0 || expectedVersion == current else {
            throw ProfileError.versionMismatch("expected_version \(expectedVersion) does not match the stored version \(current)")
        }
        return Retain_V1_ProfileLogEntry(policyChange: Retain_V1_ProfilePolicyChange(policy: policy, actor: actor, atMs: now))
    }

    mutating func applyPolicyChange(_ entry: Retain_V1_ProfilePolicyChange) {
        var policy = entry.policy ?? Retain_V1_ContactPolicy()
        policy.version = (storedPolicy?.version ?? 0) + 1
        policy.updatedAtMs = entry.atMs
        policy.updatedBy = entry.actor
        storedPolicy = policy
    }
}
