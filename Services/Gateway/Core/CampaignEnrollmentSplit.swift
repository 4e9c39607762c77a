public import RetainProto

/// An EnrollCampaignMembers call split by the owner of each user: one part per shard, each
/// keeping the caller's order, and the parts' answers added up with every skipped user pointing
/// back into the caller's list.
public struct CampaignEnrollmentSplit: Sendable {
    /// The caller's request.
    public let request: Retain_V1_EnrollCampaignMembersRequest
    /// For each shard that owns at least one user (by index), the indexes of its users in the
    /// caller's list, in order.
    public let parts: [Int: [Int]]

    /// Splits `request`'s users by `owner` (a user id's shard index).
    public init(_ request: Retain_V1_EnrollCampaignMembersRequest, owner: (String) -> Int) {
        self.request = request
        var parts: [Int: [Int]] = [:]
        for (index, user) in request.userIds.enumerated() { parts[owner(user), default: []].append(index) }
        self.parts = parts
    }

    /// The shards with a part, in index order.
    public var shards: [Int] { parts.keys.sorted() }

    /// The request of `shard`'s part.
    public func request(for shard: Int) -> Retain_V1_EnrollCampaignMembersRequest {
        Retain_V1_EnrollCampaignMembersRequest(
            campaignId: request.campaignId, userIds: (parts[shard] ?? []).map { request.userIds[$0] })
    }

    /// The caller's answer from every part's answer (by shard): counts added, skipped users at
    /// their place in the caller's list.
    public func merge(_ answers: [Int: Retain_V1_EnrollCampaignMembersResponse]) -> Retain_V1_EnrollCampaignMembersResponse {
        var merged = Retain_V1_EnrollCampaignMembersResponse()
        for shard in shards {
            guard let answer = answers[shard] else { continue }
            let indexes = parts[shard] ?? []
            merged.treated += answer.treated
            merged.holdout += answer.holdout
            merged.alreadyEnrolled += answer.alreadyEnrolled
            merged.touched += answer.touched
            for var skipped in answer.skipped where Int(skipped.index) < indexes.count {
                let index = indexes[Int(skipped.index)]
                skipped.index = UInt32(index)
                skipped.field = "user_ids[\(index)]"
                merged.skipped.append(skipped)
            }
        }
        merged.skipped.sort { $0.index < $1.index }
        return merged
    }
}
