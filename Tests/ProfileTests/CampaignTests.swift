import Crypto
import Foundation
import ProfileService
import Logging
@testable import ProfileCore
import RetainProto
import RetainState
import Testing

@Suite("recall campaigns")
struct CampaignTests {
    /// email: 2 a day, cost 1; sms: 1 a day, cost 5; no repeat window.
    let policy = Retain_V1_ContactPolicy(channels: [
        Retain_V1_ChannelCap(channel: .sms, enabled: true, maxPerDay: 1, cost: 5),
        Retain_V1_ChannelCap(channel: .email, enabled: true, maxPerDay: 2, cost: 1),
    ])
    let start = monday + 10 * day

    func campaign(
        _ id: String = "winback", holdout: UInt32 = 2_000, maxTouches: UInt32 = 1, reward: Int64 = 50
    ) -> Retain_V1_Campaign {
        Retain_V1_Campaign(
            campaignId: id, holdoutBasisPoints: holdout, startAtMs: start, endAtMs: start + 30 * day,
            channels: [.sms, .email], returnKind: "login", maxTouches: maxTouches, touchIntervalDays: 2,
            reward: reward > 0 ? Retain_V1_Amount(value: reward, asset: "points") : nil, rewardBudget: "recall")
    }

    /// A state with users u0..<count registered and `campaign` created.
    func fixture(users count: Int, campaign: Retain_V1_Campaign) throws -> ProfileFixture {
        var fixture = ProfileFixture()
        for number in 0..<count { try fixture.register("u\(number)") }
        let created = try fixture.state.planCreateCampaign(campaign, actor: "ops", now: monday)
        try fixture.state.apply(try #require(created.entry))
        return fixture
    }

    @discardableResult
    func enroll(
        _ fixture: inout ProfileFixture, _ users: [String], campaign: String = "winback", at: Int64
    ) throws
        -> Retain_V1_EnrollCampaignMembersResponse
    {
        let plan = try fixture.state.planEnrollment(
            Retain_V1_EnrollCampaignMembersRequest(campaignId: campaign, userIds: users), policy: policy, now: at)
        if let entry = plan.entry { try fixture.state.apply(entry) }
        var response = plan.response
        response.skipped = plan.skipped.map { $0.error.itemError(at: $0.position, field: "user_ids[\($0.position)]") }
        return response
    }

    /// The documented holdout rule, computed here independently: SHA-256("<campaign>:<user>"),
    /// first 8 bytes big-endian, modulo 10,000, below the holdout share.
    func heldOut(_ campaign: String, _ user: String, share: UInt32) -> Bool {
        let digest = Array(SHA256.hash(data: Array("\(campaign):\(user)".utf8)))
        let value = digest.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        return value % 10_000 < UInt64(share)
    }

    @Test("the holdout is the documented hash share; enrolling again changes nothing; unknown users are skipped")
    func holdout() throws {
        var fixture = try fixture(users: 2_000, campaign: campaign())
        let users = (0..<2_000).map { "u\($0)" }
        let first = try enroll(&fixture, users + ["ghost"], at: monday)
        let expectedHoldout = users.filter { heldOut("winback", $0, share: 2_000) }.count
        #expect(Int(first.holdout) == expectedHoldout)
        #expect(Int(first.treated) == 2_000 - expectedHoldout)
        #expect(expectedHoldout > 300 && expectedHoldout < 500, "about 20% of 2,000")
        #expect(first.skipped.map(\.index) == [2_000] && first.skipped.first?.code == 5)
        #expect(first.touched == 0, "the campaign has not started: nobody is touched at enrolment")
        for user in users.prefix(50) {
            let member = try fixture.state.campaignMember(userID: user, campaignID: "winback")
            #expect((member.group == .holdout) == heldOut("winback", user, share: 2_000))
        }
        let again = try enroll(&fixture, Array(users.prefix(10)), at: monday + day)
        #expect(again.alreadyEnrolled == 10 && again.treated == 0 && again.holdout == 0)
        #expect(try fixture.state.campaignStatus("winback").members == 2_000)
    }

    @Test("treated members are touched on the cheapest channel the caps allow, the holdout never; touches count against the caps")
    func touches() throws {
        var fixture = try fixture(users: 200, campaign: campaign())
        let users = (0..<200).map { "u\($0)" }
        // Enrolled after the start: touched at once.
        let answer = try enroll(&fixture, users, at: start + 1_000)
        #expect(answer.touched == answer.treated)
        for user in users {
            let member = try fixture.state.campaignMember(userID: user, campaignID: "winback")
            if member.group == .holdout {
                #expect(member.touches == 0)
            } else {
                #expect(member.touches == 1 && member.lastChannel == .email, "email costs 1, sms 5")
            }
        }
        // The touch is in the user's contact history: a treated user's email cap (2 a day) has
        // one touch left today.
        let treatedUser = try #require(users.first { !heldOut("winback", $0, share: 2_000) })
        let index = try #require(fixture.state.userIndex(treatedUser))
        let check = fixture.state.checkContact(index, channels: [.email], campaign: "other", at: start + 2_000, policy: policy)
        #expect(check.decisions.first?.sentToday == 1)
        // Nobody is due again (one touch at most): a touch round finds nothing.
        let round = try fixture.state.planTouches(campaignID: "winback", limit: 1_000, policy: policy, now: start + 5 * day)
        #expect(round.entry == nil && round.response.touched == 0)
    }

    @Test("follow-up touches wait for the interval, stop at max_touches, and stop for a user who came back")
    func followUps() throws {
        var fixture = try fixture(users: 40, campaign: campaign(holdout: 0, maxTouches: 3))
        let users = (0..<40).map { "u\($0)" }
        try enroll(&fixture, users, at: start)
        func round(_ at: Int64) throws -> Retain_V1_TouchCampaignMembersResponse {
            let plan = try fixture.state.planTouches(campaignID: "winback", limit: 1_000, policy: policy, now: at)
            if let entry = plan.entry { try fixture.state.apply(entry) }
            return plan.response
        }
        #expect(try round(start + day).touched == 0, "the 2-day interval has not passed")
        // u0..u9 come back before the second touch.
        for user in users.prefix(10) { try fixture.record([fixture.event(user, at: start + day + 1_000)]) }
        #expect(try round(start + 2 * day).touched == 30)
        #expect(try round(start + 4 * day).touched == 30)
        #expect(try round(start + 6 * day).touched == 0, "three touches at most")
        #expect(try fixture.state.campaignMember(userID: "u0", campaignID: "winback").touches == 1)
        #expect(try fixture.state.campaignMember(userID: "u20", campaignID: "winback").touches == 3)
        // A limit leaves the rest for the next call.
        var limited = try self.fixture(users: 30, campaign: campaign(holdout: 0))
        try enroll(&limited, (0..<30).map { "u\($0)" }, at: monday)
        let part = try limited.state.planTouches(campaignID: "winback", limit: 10, policy: policy, now: start)
        #expect(part.response.touched == 10 && part.response.more)
    }

    @Test("a return is the first return-kind event at or after enrolment and before the end; treated returns are listed in order")
    func returns() throws {
        var fixture = try fixture(users: 100, campaign: campaign())
        let users = (0..<100).map { "u\($0)" }
        try enroll(&fixture, users, at: start)
        let treated = users.filter { !heldOut("winback", $0, share: 2_000) }
        let holdout = users.filter { heldOut("winback", $0, share: 2_000) }
        // Before the enrolment, another kind, after the end: none counts.
        try fixture.record([fixture.event(treated[0], at: start - day)])
        try fixture.record([fixture.event(treated[1], at: start + day, kind: "purchase", value: 5)])
        try fixture.record([fixture.event(treated[2], at: start + 31 * day)])
        // These count, the later event of treated[3] does not move its time.
        try fixture.record([fixture.event(treated[4], at: start + 3 * day)])
        try fixture.record([fixture.event(treated[3], at: start + 2 * day)])
        try fixture.record([fixture.event(treated[3], at: start + 5 * day)])
        try fixture.record([fixture.event(holdout[0], at: start + day)])
        let listed = try fixture.state.campaignReturns("winback", after: 0, limit: 100)
        #expect(listed.returns.map(\.userId) == [treated[4], treated[3]], "the holdout is never rewarded")
        #expect(listed.returns.map(\.position) == [1, 2] && listed.headPosition == 2)
        #expect(listed.returns[1].returnedAtMs == start + 2 * day)
        #expect(try fixture.state.campaignReturns("winback", after: 1, limit: 100).returns.map(\.userId) == [treated[3]])
        #expect(try fixture.state.campaignMember(userID: holdout[0], campaignID: "winback").returnedAtMs == start + day)
        #expect(try fixture.state.campaignMember(userID: treated[0], campaignID: "winback").returnedAtMs == 0)
        // Cancelled: later returns do not count.
        try fixture.state.apply(try #require(try fixture.state.planCampaignFlag("winback", cancel: true, now: start + 6 * day)))
        try fixture.record([fixture.event(treated[5], at: start + 7 * day)])
        #expect(try fixture.state.campaignReturns("winback", after: 0, limit: 100).headPosition == 2)
        #expect(throws: ProfileError.self) {
            try fixture.state.planEnrollment(.init(campaignId: "winback", userIds: ["u1"]), policy: policy, now: start + 7 * day)
        }
    }

    @Test("results on a known population: recall rates, lift with its Wald interval, costs")
    func results() throws {
        var fixture = try fixture(users: 4_000, campaign: campaign(holdout: 3_000))
        let users = (0..<4_000).map { "u\($0)" }
        try enroll(&fixture, users, at: start)
        // Treated users with an even number come back (50%); held-out users whose number is a
        // multiple of 4 (25%).
        var treated = 0
        var treatedBack = 0
        var held = 0
        var heldBack = 0
        for (number, user) in users.enumerated() {
            if heldOut("winback", user, share: 3_000) {
                held += 1
                if number % 4 == 0 {
                    heldBack += 1
                    try fixture.record([fixture.event(user, at: start + 2 * day)])
                }
            } else {
                treated += 1
                if number % 2 == 0 {
                    treatedBack += 1
                    try fixture.record([fixture.event(user, at: start + 2 * day)])
                }
            }
        }
        let results = try fixture.state.campaignResults("winback", policy: policy)
        #expect(results.treated?.members == UInt64(treated) && results.treated?.returned == UInt64(treatedBack))
        #expect(results.holdout?.members == UInt64(held) && results.holdout?.returned == UInt64(heldBack))
        let p1 = Double(treatedBack) / Double(treated)
        let p0 = Double(heldBack) / Double(held)
        #expect(abs(p1 - 0.5) < 0.03 && abs(p0 - 0.25) < 0.04)
        #expect(abs(results.lift - (p1 - p0)) < 1e-12)
        let margin = 1.959964 * (p1 * (1 - p1) / Double(treated) + p0 * (1 - p0) / Double(held)).squareRoot()
        #expect(abs(results.liftCiLow - (p1 - p0 - margin)) < 1e-12)
        #expect(abs(results.liftCiHigh - (p1 - p0 + margin)) < 1e-12)
        #expect(results.significant)
        #expect(abs(results.relativeLift - (p1 - p0) / p0) < 1e-12)
        // Every treated user got one email (cost 1); every returned treated user is owed 50 points.
        #expect(results.touches == UInt64(treated) && results.touchCost == UInt64(treated))
        #expect(results.channels.map(\.channel) == [.email])
        #expect(results.rewardsDue == Retain_V1_Amount(value: 50 * Int64(treatedBack), asset: "points"))
        let cost = Double(treated) + 50 * Double(treatedBack)
        #expect(abs(results.costPerRecalledUser - cost / Double(treatedBack)) < 1e-9)
        #expect(abs(results.incrementalReturns - Double(treated) * (p1 - p0)) < 1e-9)
        #expect(abs(results.costPerIncrementalReturn - cost / (Double(treated) * (p1 - p0))) < 1e-9)
    }

    @Test("a definition is checked: the same again is a retry, another one under the id is refused")
    func definitions() throws {
        var fixture = try fixture(users: 1, campaign: campaign())
        let retry = try fixture.state.planCreateCampaign(campaign(), actor: "someone else", now: monday + day)
        #expect(retry.entry == nil && retry.response.replayed && retry.response.campaign?.createdBy == "ops")
        #expect(throws: ProfileError.exists("campaign 'winback' exists with another definition")) {
            try fixture.state.planCreateCampaign(campaign(holdout: 100), actor: "ops", now: monday)
        }
        var backwards = campaign("late")
        backwards.endAtMs = backwards.startAtMs
        #expect(throws: ProfileError.self) { try fixture.state.planCreateCampaign(backwards, actor: "ops", now: monday) }
        #expect(throws: ProfileError.notFound(what: "campaign", id: "nope")) { try fixture.state.campaignStatus("nope") }
        _ = try enroll(&fixture, ["u0"], at: monday)
    }

    @Test("campaigns survive a snapshot and the log replayed after it")
    func snapshot() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("campaign-snap-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let logger = Logger(label: "campaign-test")
        func log(_ store: StateStore<ProfileState>, _ entry: Retain_V1_ProfileLogEntry?) async throws {
            guard let entry else { return }
            _ = try await store.writeDurably { try $0.log(entry) }
        }
        func observe(_ state: borrowing ProfileState) throws -> [String] {
            var seen = ["\(try state.campaignResults("winback", policy: policy))", "\(state.campaignList())"]
            seen.append("\(try state.campaignReturns("winback", after: 0, limit: 10_000))")
            for number in stride(from: 0, to: 300, by: 7) {
                seen.append("\(try state.campaignMember(userID: "u\(number)", campaignID: "winback"))")
            }
            return seen
        }
        let before: [String]
        do {
            let store = try StateStore<ProfileState>(directory: directory, logger: logger)
            for number in 0..<300 {
                let request = Retain_V1_RegisterUserRequest(userId: "u\(number)", registeredAtMs: monday)
                if case .register(let entry) = try store.read({ try $0.planRegistration(request, now: monday, generateID: { "" }) }) {
                    try await log(store, entry)
                }
            }
            try await log(store, try store.read { try $0.planCreateCampaign(campaign(maxTouches: 2), actor: "ops", now: monday).entry })
            let users = (0..<300).map { "u\($0)" }
            try await log(
                store,
                try store.read { try $0.planEnrollment(.init(campaignId: "winback", userIds: users), policy: policy, now: start).entry })
            let events = (0..<300).filter { $0 % 3 == 0 }.map {
                Retain_V1_ActivityEvent(userId: "u\($0)", eventId: "back-\($0)", kind: "login", occurredAtMs: start + day)
            }
            try await log(store, ProfileState.prepareActivities(events, invalid: [:], now: start + day).entry)
            try await log(store, try store.read { try $0.planCampaignFlag("winback", cancel: false, now: start + day) })
            #expect(try store.snapshot() != nil)
            // After the snapshot: a second round of touches and more returns, replayed from the log.
            try await log(
                store,
                try store.read { try $0.planTouches(campaignID: "winback", limit: 1_000, policy: policy, now: start + 3 * day).entry })
            let late = (0..<300).filter { $0 % 3 == 1 }.map {
                Retain_V1_ActivityEvent(userId: "u\($0)", eventId: "late-\($0)", kind: "login", occurredAtMs: start + 4 * day)
            }
            try await log(store, ProfileState.prepareActivities(late, invalid: [:], now: start + 4 * day).entry)
            before = try store.read { try observe($0) }
            store.close()
        }
        let reopened = try StateStore<ProfileState>(directory: directory, logger: logger)
        let after = try reopened.read { try observe($0) }
        #expect(after == before)
        #expect(try reopened.read { try $0.campaignStatus("winback") }.enrolled)
        reopened.close()
    }
}
