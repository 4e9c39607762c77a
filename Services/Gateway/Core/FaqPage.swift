import RetainCluster
public import RetainProto

/// A page of the FAQ merged from every shard: the gateway holds the whole merged list (groups
/// span shards, so no shard's order is the merged order) and pages it by offset.
///
/// Its page token is `f1.<hash of the request without its page, 16 hex digits>.<offset>`, so a
/// token given with other categories or another minimum is refused.
public enum FaqPage {
    /// The page of `groups` (merged and ordered by ``ReportMerge/faq(_:minAsks:)``) that
    /// `request` asks for.
    public static func page(
        _ groups: [Retain_V1_FaqEntry], request: Retain_V1_GetFaqRequest
    ) throws(ShardMergeError) -> Retain_V1_GetFaqResponse {
        let size = request.page?.pageSize ?? 0
        guard size <= 1000 else { throw .invalidPageSize("must be at most 1000, not \(size)") }
        let pageSize = size == 0 ? 50 : Int(size)
        let hash = queryHash(request)
        var offset = 0
        if let text = request.page?.pageToken, !text.isEmpty {
            let parts = text.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count == 3, parts[0] == "f1", let tokenHash = UInt64(parts[1], radix: 16), let start = Int(parts[2]),
                start >= 0
            else {
                throw .invalidPageToken("malformed page token")
            }
            guard tokenHash == hash else { throw .invalidPageToken("the page token was issued for other filters") }
            offset = min(start, groups.count)
        }
        let end = min(offset + pageSize, groups.count)
        let hex = String(hash, radix: 16)
        let next = end < groups.count ? "f1.\(String(repeating: "0", count: 16 - hex.count))\(hex).\(end)" : ""
        return Retain_V1_GetFaqResponse(
            entries: Array(groups[offset..<end]),
            pageInfo: Retain_V1_PageInfo(nextPageToken: next, total: UInt64(groups.count)))
    }

    /// The hash of what a token is valid for: the categories and the minimum.
    static func queryHash(_ request: Retain_V1_GetFaqRequest) -> UInt64 {
        StableHash.hash(request.categories.joined(separator: "\u{1}") + "\u{2}\(request.minAsks)")
    }
}
