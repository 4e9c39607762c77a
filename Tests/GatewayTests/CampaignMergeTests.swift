import GatewayCore
import RetainProto
import Testing

@Suite("campaign answers across shards")
struct CampaignMergeTests {
    @Test("results add up per group and channel, and every figure is recomputed from the sums")
    func results() {
        func shard(_ treated: (UInt64, UInt64), _ holdout: (UInt64, UInt64), email: UInt64) -> Retain_V1_GetCampaignResultsResponse {
            var answer = Retain_V1_GetCampaignResultsResponse(
                campaignId: "c", treated: .init(members: treated.0, returned: treated.1),
                holdout: .init(members: holdout.0, returned: holdout.1),
                touched: treated.0, touches: treated.0, channels: [.init(channel: .email, touches: email, cost: 2 * email)],
                rewardsDue: .init(value: 10 * Int64(treated.1), asset: "points"))
            answer.computeStatistics()
            return answer
        }
        let merged = ReportMerge.campaignResults([shard((100, 40), (50, 10), email: 100), shard((300, 90), (150, 30), email: 300)])
        #expect(merged.treated?.members == 400 && merged.treated?.returned == 130)
        #expect(merged.holdout?.members == 200 && merged.holdout?.returned == 40)
        #expect(merged.channels == [.init(channel: .email, touches: 400, cost: 800)] && merged.touchCost == 800)
        #expect(merged.rewardsDue == .init(value: 1_300, asset: "points"))
        let p1 = 130.0 / 400
        let p0 = 40.0 / 200
        #expect(abs(merged.lift - (p1 - p0)) < 1e-12)
        let margin = 1.959964 * (p1 * (1 - p1) / 400 + p0 * (1 - p0) / 200).squareRoot()
        #expect(abs(merged.liftCiLow - (p1 - p0 - margin)) < 1e-12 && abs(merged.liftCiHigh - (p1 - p0 + margin)) < 1e-12)
        #expect(abs(merged.costPerRecalledUser - (800.0 + 1_300) / 130) < 1e-9)
        #expect(abs(merged.incrementalReturns - 400 * (p1 - p0)) < 1e-9)
    }

    @Test("an enrolment is split by owner and its skipped users point back into the caller's list")
    func enrolmentSplit() {
        let request = Retain_V1_EnrollCampaignMembersRequest(campaignId: "c", userIds: ["a", "b", "c", "d", "e"])
        let split = CampaignEnrollmentSplit(request) { ["a": 0, "b": 1, "c": 0, "d": 1, "e": 1][$0]! }
        #expect(split.shards == [0, 1])
        #expect(split.request(for: 0).userIds == ["a", "c"] && split.request(for: 1).userIds == ["b", "d", "e"])
        let merged = split.merge([
            0: .init(treated: 1, holdout: 1),
            1: .init(treated: 1, alreadyEnrolled: 1, skipped: [.init(index: 2, code: 5, message: "user 'e' not found")], touched: 1),
        ])
        #expect(merged.treated == 2 && merged.holdout == 1 && merged.alreadyEnrolled == 1 && merged.touched == 1)
        #expect(merged.skipped.map(\.index) == [4] && merged.skipped.first?.field == "user_ids[4]")
    }

    @Test("campaign status and lists merge by id; enrolled only when every shard is")
    func status() {
        let a = Retain_V1_GetCampaignResponse(campaign: .init(campaignId: "x"), members: 3, enrolled: true, touched: 2, returned: 1)
        let b = Retain_V1_GetCampaignResponse(campaign: .init(campaignId: "x"), members: 4, enrolled: false, touched: 1, returned: 2)
        let merged = ReportMerge.campaignStatus([a, b])
        #expect(merged.members == 7 && merged.touched == 3 && merged.returned == 3 && !merged.enrolled)
        let list = ReportMerge.campaignList([
            .init(campaigns: [a]), .init(campaigns: [b, .init(campaign: .init(campaignId: "w"), members: 1)]),
        ])
        #expect(list.campaigns.map { $0.campaign?.campaignId } == ["w", "x"] && list.campaigns[1].members == 7)
    }
}
