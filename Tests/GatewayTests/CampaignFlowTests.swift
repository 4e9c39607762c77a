import Crypto
import Foundation
import GatewayCore
import RetainLauncher
import RetainProto
import RetainRPC
import RetainTestSupport
import Testing

/// A recall campaign across the real suite: created and enrolled through the gateway, touched by
/// Profile under the contact caps, measured against its holdout, and its return reward paid once
/// through the ledger by the gateway's campaign runner — also after the gateway is killed and
/// started again.
@Suite("Recall campaigns across the real suite", .serialized)
struct CampaignFlowTests {
    /// The documented holdout rule, computed here independently (docs/CAMPAIGNS.md).
    static func heldOut(_ campaign: String, _ user: String, share: UInt32) -> Bool {
        let digest = Array(SHA256.hash(data: Array("\(campaign):\(user)".utf8)))
        return digest.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) } % 10_000 < UInt64(share)
    }

    @Test(
        "holdout kept out, treated touched on the allowed channel, rewards paid once per returned treated user, results match the population"
    )
    func recallCampaign() async throws {
        var configuration = LocalSuite.Configuration()
        configuration.gatewayArguments = ["--campaign-interval-ms", "200"]
        let harness = try SuiteHarness(configuration: configuration)
        do {
            try await harness.waitUntilServing()
            try await run(harness)
        } catch {
            await harness.stop()
            throw error
        }
        await harness.stop()
    }

    func run(_ harness: SuiteHarness) async throws {
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        _ = try await harness.call(
            Retain_V1_Profile.setContactPolicy,
            .init(
                policy: Retain_V1_ContactPolicy(channels: [
                    Retain_V1_ChannelCap(channel: .sms, enabled: false, cost: 5),
                    Retain_V1_ChannelCap(channel: .email, enabled: true, maxPerDay: 3, cost: 2),
                ]), actor: "ops"))
        let users = (0..<300).map { "recall-\($0)" }
        for user in users {
            _ = try await harness.call(
                Retain_V1_Profile.registerUser, .init(userId: user, channel: "ads", registeredAtMs: now - 90 * 86_400_000))
        }
        let campaign = Retain_V1_Campaign(
            campaignId: "winback-q4", description: "users drifting away", holdoutBasisPoints: 3_000, endAtMs: now + 86_400_000,
            channels: [.sms, .email], returnKind: "login", maxTouches: 1,
            reward: Retain_V1_Amount(value: 30, asset: "points"), rewardBudget: "recall", message: "We miss you")
        let created = try await harness.call(Retain_V1_Profile.createCampaign, .init(campaign: campaign))
        #expect(!created.replayed && created.campaign?.startAtMs ?? 0 >= now)
        let enrolled = try await harness.call(
            Retain_V1_Profile.enrollCampaignMembers, .init(campaignId: "winback-q4", userIds: users + ["nobody"]))
        let holdout = Set(users.filter { Self.heldOut("winback-q4", $0, share: 3_000) })
        #expect(Int(enrolled.holdout) == holdout.count && Int(enrolled.treated) == users.count - holdout.count)
        #expect(enrolled.touched == enrolled.treated, "email is enabled and under its cap for everyone")
        #expect(enrolled.skipped.map(\.index) == [UInt32(users.count)])
        _ = try await harness.call(Retain_V1_Profile.markCampaignEnrolled, .init(campaignId: "winback-q4"))

        // Every third user comes back (after the enrolment); a purchase is not a return.
        let back = Int64(Date().timeIntervalSince1970 * 1000) + 1_000
        var events: [Retain_V1_ActivityEvent] = []
        for (number, user) in users.enumerated() {
            if number % 3 == 0 { events.append(.init(userId: user, eventId: "back-\(user)", kind: "login", occurredAtMs: back)) }
            if number % 3 == 1 {
                events.append(
                    .init(
                        userId: user, eventId: "buy-\(user)", kind: "purchase", occurredAtMs: back,
                        value: Retain_V1_Amount(value: 100, asset: "cash.usd")))
            }
        }
        _ = try await harness.call(Retain_V1_Profile.recordActivities, .init(events: events))
        let returned = Set(users.enumerated().filter { $0.offset % 3 == 0 }.map(\.element))
        let rewarded = returned.subtracting(holdout)

        // The runner pays every returned treated user once.
        try await waitForRewards(harness, rewarded)
        for user in users {
            let expected: Int64 = rewarded.contains(user) ? 30 : 0
            #expect(try await harness.balance(user) == expected, "\(user)")
        }
        let member = try await harness.call(
            Retain_V1_Profile.getCampaignMember, .init(userId: rewarded.sorted()[0], campaignId: "winback-q4"))
        #expect(member.member?.group == .treated && member.member?.touches == 1 && member.member?.lastChannel == .email)

        let results = try await harness.call(Retain_V1_Profile.getCampaignResults, .init(campaignId: "winback-q4"))
        let treatedCount = users.count - holdout.count
        #expect(results.treated?.members == UInt64(treatedCount) && results.treated?.returned == UInt64(rewarded.count))
        #expect(
            results.holdout?.members == UInt64(holdout.count) && results.holdout?.returned == UInt64(returned.intersection(holdout).count))
        #expect(results.touchCost == UInt64(2 * treatedCount) && results.rewardsDue?.value == Int64(30 * rewarded.count))
        let p1 = Double(rewarded.count) / Double(treatedCount)
        let p0 = Double(returned.intersection(holdout).count) / Double(holdout.count)
        #expect(abs(results.lift - (p1 - p0)) < 1e-12)

        // A campaign whose audience is a saved segment: the runner enrolls its members itself.
        for user in users.prefix(30) { _ = try await harness.call(Retain_V1_Profile.addTags, .init(userId: user, tags: ["lapsed"])) }
        _ = try await harness.call(
            Retain_V1_Profile.putSavedSegment,
            .init(segment: .init(name: "lapsed-tag", rule: .init(tag: .init(tag: "lapsed"))), create: true, actor: "ops"))
        _ = try await harness.call(
            Retain_V1_Profile.createCampaign,
            .init(campaign: .init(campaignId: "by-segment", segment: "lapsed-tag", endAtMs: now + 86_400_000, channels: [.email])))
        let deadline = ContinuousClock.now + .seconds(30)
        var status = try await harness.call(Retain_V1_Profile.getCampaign, .init(campaignId: "by-segment"))
        while !status.enrolled, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(200))
            status = try await harness.call(Retain_V1_Profile.getCampaign, .init(campaignId: "by-segment"))
        }
        #expect(status.enrolled && status.members == 30 && status.touched == 30, "\(status)")

        try commandLine(harness)

        // A gateway killed and started again reads the returns from the first and pays nothing twice.
        harness.suite.kill(.gateway)
        try harness.suite.restart(.gateway)
        try await harness.waitUntilServing()
        try await Task.sleep(for: .seconds(1))
        for user in rewarded.sorted().prefix(20) {
            #expect(try await harness.balance(user) == 30, "\(user) paid once")
            #expect(try await harness.postings(user)["campaign:winback-q4:\(user)"]?.count == 1)
        }
    }

    /// The operator's command line against the same suite.
    func commandLine(_ harness: SuiteHarness) throws {
        let gateway = ["--gateway", "127.0.0.1:\(harness.suite.gatewayPort)"]
        let key = ["RETAIN_AUTHORIZATION": harness.suite.adminAuthorization ?? ""]
        let results = try CommandRun("retain", ["campaign", "results", "winback-q4"] + gateway, environment: key)
        #expect(results.status == 0 && results.stdout.contains("treated") && results.stdout.contains("95% interval"), "\(results)")
        let created = try CommandRun(
            "retain", ["campaign", "create", "cli-test", "--holdout", "50%", "--days", "3", "--channels", "email"] + gateway,
            environment: key)
        #expect(created.status == 0 && created.stdout.contains("created"), "\(created)")
        let enrolled = try CommandRun(
            "retain", ["campaign", "enroll", "cli-test", "--file", "-", "--complete"] + gateway,
            input: (0..<40).map { "recall-\($0)" }.joined(separator: "\n") + "\nnobody\n", environment: key)
        #expect(enrolled.status == 0 && enrolled.stdout.contains("skipped nobody"), "\(enrolled)")
        let status = try CommandRun("retain", ["campaign", "status", "cli-test", "--json"] + gateway, environment: key)
        let fields = try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any]
        #expect(status.status == 0 && "\(fields?["members"] ?? "")" == "40" && fields?["enrolled"] as? Bool == true, "\(status)")
        let missing = try CommandRun("retain", ["campaign", "status", "no-such-campaign"] + gateway, environment: key)
        #expect(missing.status == 5 && missing.stderr.contains("NOT_FOUND"), "\(missing)")
        let refused = try CommandRun(
            "retain", ["campaign", "create", "bad", "--days", "3", "--holdout", "95%"] + gateway, environment: key)
        #expect(refused.status != 0 && refused.stderr.contains("--holdout"), "\(refused)")
        let unauthenticated = try CommandRun("retain", ["campaign", "list"] + gateway)
        #expect(unauthenticated.status == 16, "\(unauthenticated)")
    }

    /// Waits until every user of `users` holds the campaign's transfer.
    func waitForRewards(_ harness: SuiteHarness, _ users: Set<String>) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        var missing = users
        while !missing.isEmpty {
            for user in missing where try await harness.balance(user) > 0 { missing.remove(user) }
            guard ContinuousClock.now < deadline else {
                Issue.record("rewards not paid to \(missing.count) users: \(missing.sorted().prefix(5))")
                return
            }
            try await Task.sleep(for: .milliseconds(200))
        }
    }
}
