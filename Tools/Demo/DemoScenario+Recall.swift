import Foundation
import RetainProto
import RetainRPC

/// The demo's recall campaign: after the simulated weeks, the users Profile warns are drifting
/// away (ListChurnWarnings) become a campaign's audience with a 20% holdout; the treated are
/// touched on the cheapest channel the contact caps allow; a simulated share of each group comes
/// back (more of the treated: the simulated effect); the campaign's results measure it.
extension DemoScenario {
    /// Chance that a user of the audience comes back during the campaign: touched (treated) and
    /// held out. The difference is the effect the results should find.
    static let recallChance = (treated: 0.30, holdout: 0.15)

    /// Runs the campaign and answers its results; nil when nobody is drifting away.
    func recallCampaign(tally: DemoTally) async throws -> Retain_V1_GetCampaignResultsResponse? {
        var audience: [String] = []
        var token = ""
        repeat {
            let page = try await client.unary(
                Retain_V1_Profile.listChurnWarnings,
                Retain_V1_ListChurnWarningsRequest(page: Retain_V1_PageRequest(pageSize: 1_000, pageToken: token)), options: options)
            audience += page.warnings.map(\.userId).filter { $0.hasPrefix(configuration.runID) }
            token = page.pageInfo?.nextPageToken ?? ""
        } while !token.isEmpty
        guard !audience.isEmpty else { return nil }
        let id = "\(configuration.runID).winback"
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        _ = try await client.unary(
            Retain_V1_Profile.createCampaign,
            Retain_V1_CreateCampaignRequest(
                campaign: Retain_V1_Campaign(
                    campaignId: id, description: "win back the users drifting away", holdoutBasisPoints: 2_000,
                    endAtMs: now + 7 * Self.dayMs, channels: [.push, .email, .sms], returnKind: "login", maxTouches: 1,
                    reward: Retain_V1_Amount(value: 100, asset: "points"), rewardBudget: "demo_recall",
                    message: "We miss you: 100 points are waiting")), options: options)
        var start = 0
        while start < audience.count {
            let part = Array(audience[start..<min(start + 10_000, audience.count)])
            _ = try await client.unary(
                Retain_V1_Profile.enrollCampaignMembers, .init(campaignId: id, userIds: part), options: options)
            start += part.count
        }
        _ = try await client.unary(Retain_V1_Profile.markCampaignEnrolled, .init(campaignId: id), options: options)
        output("demo: recall campaign \(id): \(audience.count) users drifting away enrolled, 20% held out")
        // The simulated response: each member comes back with its group's chance.
        let seed = configuration.seed
        try await forEach(audience) { user in
            await self.call(tally, "Profile/RecordActivity (campaign return)") {
                let member = try await self.client.unary(
                    Retain_V1_Profile.getCampaignMember, .init(userId: user, campaignId: id), options: self.options)
                // Keyed by the id: the same user draws the same in every run.
                var random = SeededRandom(seed, SeededRandom.key(user), 0x2EC)
                let chance = member.member?.group == .treated ? Self.recallChance.treated : Self.recallChance.holdout
                guard Double.random(in: 0..<1, using: &random) < chance else { return }
                _ = try await self.client.unary(
                    Retain_V1_Profile.recordActivity,
                    .init(userId: user, eventId: "\(id).back", kind: "login", occurredAtMs: Int64(Date().timeIntervalSince1970 * 1000)),
                    options: self.options)
            }
        }
        return try await client.unary(Retain_V1_Profile.getCampaignResults, .init(campaignId: id), options: options)
    }
}
