@testable import ProfileCore
import RetainProto
import RetainWire
import Testing

@Suite("contact frequency caps")
struct ContactTests {
    /// sms: 1 a day, 2 a week, cost 5, quiet hours; email: 2 a day, cost 1; push disabled; 3 a day in
    /// all; "promo" may not repeat within 3 days; quiet 22:00 to 08:00.
    let policy = Retain_V1_ContactPolicy(
        channels: [
            Retain_V1_ChannelCap(channel: .sms, enabled: true, maxPerDay: 1, maxPerWeek: 2, cost: 5, quietHoursApply: true),
            Retain_V1_ChannelCap(channel: .email, enabled: true, maxPerDay: 2, cost: 1),
            Retain_V1_ChannelCap(channel: .push, enabled: false, cost: 0),
        ],
        maxPerDayTotal: 3, campaignWindowMs: ["promo": 3 * day], hasQuietHours: true, quietStartMinute: 22 * 60,
        quietEndMinute: 8 * 60)
    let hour: Int64 = 3_600_000

    func fixture(timeZone: String = "") throws -> ProfileFixture {
        var fixture = ProfileFixture()
        try fixture.register("u", timeZone: timeZone)
        return fixture
    }

    /// Records a touch (check = true) and returns the answer.
    @discardableResult
    func touch(
        _ fixture: inout ProfileFixture, _ channel: Retain_V1_ContactChannel, at: Int64, campaign: String = "c1",
        id: String? = nil, check: Bool = true, policy: Retain_V1_ContactPolicy? = nil
    ) throws
        -> Retain_V1_RecordContactResponse
    {
        let request = Retain_V1_RecordContactRequest(
            userId: "u", contactId: id ?? "t\(at)-\(channel.rawValue)", channel: channel,
            campaignId: campaign, sentAtMs: at, check: check)
        switch try fixture.state.planContact(request, policy: policy ?? self.policy, now: at) {
        case .answer(let answer): return answer
        case .record(let entry, let answer):
            try fixture.state.apply(entry)
            return answer
        }
    }

    func check(
        _ fixture: ProfileFixture, _ channels: [Retain_V1_ContactChannel], at: Int64, campaign: String = "c1",
        policy: Retain_V1_ContactPolicy? = nil
    ) -> Retain_V1_CheckContactResponse {
        fixture.state.checkContact(0, channels: channels, campaign: campaign, at: at, policy: policy ?? self.policy)
    }

    @Test("the daily cap allows exactly its limit; the retry skips quiet hours")
    func dailyCap() throws {
        var fixture = try fixture()
        #expect(try touch(&fixture, .sms, at: monday + 10 * hour).recorded)
        let answer = check(fixture, [.sms], at: monday + 11 * hour)
        #expect(!answer.allowed)
        #expect(answer.reason == .channelDailyCap)
        #expect(answer.decisions[0].sentToday == 1)
        #expect(answer.decisions[0].retryAfterMs == monday + day + 8 * hour, "midnight is quiet; 08:00 is the first allowed")
    }

    @Test("the weekly cap counts the last 7 local days and frees a slot when the oldest touch leaves")
    func weeklyCap() throws {
        var fixture = try fixture()
        try touch(&fixture, .sms, at: monday + 10 * hour)
        try touch(&fixture, .sms, at: monday + day + 10 * hour)
        let answer = check(fixture, [.sms], at: monday + 2 * day + 10 * hour)
        #expect(answer.reason == .channelWeeklyCap)
        #expect(answer.decisions[0].sentThisWeek == 2)
        #expect(answer.decisions[0].retryAfterMs == monday + 7 * day + 8 * hour)
        #expect(check(fixture, [.sms], at: monday + 7 * day + 10 * hour).allowed)
    }

    @Test("a campaign may not repeat inside its window; another campaign may")
    func campaignRepeat() throws {
        var fixture = try fixture()
        try touch(&fixture, .email, at: monday + 10 * hour, campaign: "promo")
        let again = check(fixture, [.email], at: monday + day + 10 * hour, campaign: "promo")
        #expect(again.reason == .campaignRepeat)
        #expect(again.decisions[0].retryAfterMs == monday + 3 * day + 10 * hour)
        #expect(check(fixture, [.email], at: monday + day + 10 * hour, campaign: "other").allowed)
    }

    @Test("quiet hours apply in the user's own time zone, and only to channels that say so")
    func quietHours() throws {
        let utc = try fixture()
        let late = check(utc, [.sms], at: monday + 23 * hour)
        #expect(late.reason == .quietHours)
        #expect(late.decisions[0].retryAfterMs == monday + day + 8 * hour)
        #expect(check(utc, [.email], at: monday + 23 * hour).allowed)
        let shanghai = try fixture(timeZone: "Asia/Shanghai")
        #expect(check(shanghai, [.sms], at: monday + 15 * hour).reason == .quietHours, "23:00 in Shanghai")
        #expect(check(shanghai, [.sms], at: monday + 3 * hour).allowed, "11:00 in Shanghai")
    }

    @Test("the cheapest allowed candidate wins; a disabled channel is never allowed")
    func cheapest() throws {
        var fixture = try fixture()
        let answer = check(fixture, [.sms, .email, .push], at: monday + 10 * hour)
        #expect(answer.channel == .email)
        #expect(answer.decisions.map(\.reason) == [.allowed, .allowed, .channelDisabled])
        #expect(answer.decisions[2].retryAfterMs == 0)
        try touch(&fixture, .email, at: monday + 10 * hour)
        try touch(&fixture, .email, at: monday + 11 * hour)
        #expect(check(fixture, [.sms, .email], at: monday + 12 * hour).channel == .sms)
    }

    @Test("the total daily cap counts every channel")
    func totalCap() throws {
        var fixture = try fixture()
        var twoADay = policy
        twoADay.maxPerDayTotal = 2
        try touch(&fixture, .email, at: monday + 9 * hour, policy: twoADay)
        try touch(&fixture, .sms, at: monday + 11 * hour, policy: twoADay)
        let answer = check(fixture, [.email], at: monday + 12 * hour, policy: twoADay)
        #expect(answer.decisions[0].sentToday == 1, "email alone is under its own cap of 2")
        #expect(answer.reason == .totalDailyCap)
        #expect(answer.decisions[0].retryAfterMs == monday + day)
    }

    @Test("a checked touch over the cap is refused and remembered; a retry replays, another body is ALREADY_EXISTS")
    func recordWithCheck() throws {
        var fixture = try fixture()
        #expect(try touch(&fixture, .sms, at: monday + 10 * hour, id: "k1").sentToday == 1)
        let refused = try touch(&fixture, .sms, at: monday + 11 * hour, id: "k2")
        #expect(!refused.recorded)
        #expect(refused.reason == .channelDailyCap)
        let replay = try touch(&fixture, .sms, at: monday + 11 * hour, id: "k2")
        #expect(replay.replayed)
        #expect(!replay.recorded)
        let reused = rpcError { _ = try touch(&fixture, .email, at: monday + 11 * hour, id: "k2") }
        #expect(reused?.code == .alreadyExists)
        let forced = try touch(&fixture, .sms, at: monday + 12 * hour, id: "k3", check: false)
        #expect(forced.recorded, "check = false records a touch already sent")
        #expect(forced.sentToday == 2)
    }

    @Test("a deleted user may not be contacted")
    func deletedUser() throws {
        var fixture = try fixture()
        if case .delete(let entry) = try fixture.state.planDeletion(userID: "u", reason: "r", actor: "a", now: monday) {
            try fixture.state.apply(entry)
        }
        #expect(check(fixture, [.email], at: monday + 10 * hour).reason == .userDeleted)
        #expect(try touch(&fixture, .email, at: monday + 10 * hour).reason == .userDeleted)
    }

    @Test("a policy change needs the expected version and increments it")
    func policyVersions() throws {
        var state = ProfileState()
        try state.apply(try state.planPolicyChange(policy, expectedVersion: 0, actor: "ops", now: monday))
        #expect(state.contactPolicy(default: Retain_V1_ContactPolicy()).version == 1)
        #expect(rpcError { _ = try state.planPolicyChange(policy, expectedVersion: 5, actor: "ops", now: monday) }?.code == .aborted)
        try state.apply(try state.planPolicyChange(policy, expectedVersion: 1, actor: "ops", now: monday + day))
        let stored = state.contactPolicy(default: Retain_V1_ContactPolicy())
        #expect(stored.version == 2)
        #expect(stored.updatedBy == "ops")
        #expect(stored.updatedAtMs == monday + day)
    }
}
