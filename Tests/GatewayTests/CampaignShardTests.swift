import Foundation
import RetainProto
import RetainRPC
import RetainWire
import Testing

/// A recall campaign over several Profile shards behind the gateway answers as one instance
/// holding every user does, for the same workload (docs/CLUSTER.md, docs/CAMPAIGNS.md).
@Suite("Recall campaigns across shards", .serialized)
struct CampaignShardTests {
    /// Runs the workload against `target` and answers what a client can read of the campaign.
    static func run(_ target: ClusterTarget, now: Int64) async throws -> [String] {
        _ = try await target.call(
            .profile, Retain_V1_Profile.setContactPolicy,
            .init(
                policy: Retain_V1_ContactPolicy(channels: [Retain_V1_ChannelCap(channel: .email, enabled: true, maxPerDay: 2, cost: 3)]),
                actor: "ops"))
        let users = (0..<240).map { "shard-user-\($0)" }
        for user in users {
            _ = try await target.call(.profile, Retain_V1_Profile.registerUser, .init(userId: user, registeredAtMs: now - 86_400_000))
        }
        let campaign = Retain_V1_Campaign(
            campaignId: "spread", holdoutBasisPoints: 2_500, startAtMs: now - 1_000, endAtMs: now + 86_400_000, channels: [.email],
            reward: Retain_V1_Amount(value: 7, asset: "points"), rewardBudget: "recall")
        _ = try await target.call(.profile, Retain_V1_Profile.createCampaign, .init(campaign: campaign))
        let enrolled = try await target.call(
            .profile, Retain_V1_Profile.enrollCampaignMembers, .init(campaignId: "spread", userIds: users + ["ghost-1"] + users.prefix(5)))
        _ = try await target.call(.profile, Retain_V1_Profile.markCampaignEnrolled, .init(campaignId: "spread"))
        let back = Int64(Date().timeIntervalSince1970 * 1000) + 1_000
        let events = users.enumerated().filter { $0.offset % 4 != 3 }.map {
            Retain_V1_ActivityEvent(
                userId: $0.element, eventId: "back", kind: $0.offset % 2 == 0 ? "login" : "visit", occurredAtMs: back)
        }
        _ = try await target.call(.profile, Retain_V1_Profile.recordActivities, .init(events: events))
        var results = try await target.call(.profile, Retain_V1_Profile.getCampaignResults, .init(campaignId: "spread"))
        results.missingShards = []
        let status = try await target.call(.profile, Retain_V1_Profile.getCampaign, .init(campaignId: "spread"))
        let member = try await target.call(.profile, Retain_V1_Profile.getCampaignMember, .init(userId: users[8], campaignId: "spread"))
        var normalized = status
        normalized.campaign?.createdAtMs = 0
        return [
            "\(enrolled)", "\(results)", "\(normalized.members) \(normalized.touched) \(normalized.returned) \(normalized.enrolled)",
            "\(member.member?.group ?? .unspecified) \(member.member?.touches ?? 0)",
        ]
    }

    @Test("enrolment split by owner, status and results merged: the same answers as one instance")
    func matchesOneInstance() async throws {
        let cluster = try ShardedCluster(shards: 2)
        do {
            try await cluster.waitUntilServing()
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            let expected = try await Self.run(.reference(cluster), now: now)
            let merged = try await Self.run(.gateway(cluster), now: now)
            #expect(merged == expected)
            // Each shard holds part of the members, and the returns are one shard's positions.
            for index in 0..<2 {
                let status = try await cluster.shard("profile-\(index)").unary(Retain_V1_Profile.getCampaign, .init(campaignId: "spread"))
                #expect(status.members > 0 && status.members < 240)
            }
            await #expect {
                _ = try await cluster.gateway.unary(Retain_V1_Profile.listCampaignReturns, .init(campaignId: "spread"))
            } throws: { ($0 as? RPCError)?.code == .failedPrecondition }
        } catch {
            await cluster.stop()
            throw error
        }
        await cluster.stop()
    }
}
