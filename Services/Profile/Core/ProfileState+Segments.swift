public import RetainProto

extension ProfileState {
    /// The number of users (not deleted) that match `filter`, with stages as of `asOf` (read
    /// from the ``StageCache``; `byScan` evaluates each user instead, the reference).
    public func countSegment(
        _ filter: Retain_V1_SegmentFilter, asOf: Int64, evaluator: LifecycleEvaluator, byScan: Bool = false
    ) -> UInt64 {
        let matcher = SegmentMatcher(filter, state: self, asOf: asOf, evaluator: evaluator, cachedStages: !byScan)
        guard !matcher.matchesNothing else { return 0 }
        var count: UInt64 = 0
        users.forEachChunk { first, chunk in
            let base = chunk.baseAddress!
            for offset in 0..<chunk.count {
                let user = base + offset
                if user.pointee.deletedAtMs == 0, matcher.matches(user, index: first + offset) { count += 1 }
            }
        }
        return count
    }

    /// One page of the users that match `filter`, ordered by user id.
    ///
    /// - Parameters:
    ///   - pageSize: Users per page (validated: 1 to 1000).
    ///   - pageToken: The previous page's token, or "".
    ///   - asOf: The as-of time of a first page (later pages use their token's).
    /// - Throws: `.invalid` for a malformed or foreign token, or an `as_of_ms` that
    ///   differs from the first page's.
    public func listSegment(
        _ filter: Retain_V1_SegmentFilter, pageSize: Int, pageToken: String, asOf requestedAsOf: Int64?, now: Int64,
        evaluator: LifecycleEvaluator
    ) throws(ProfileError) -> Retain_V1_ListSegmentResponse {
        let queryHash = StableHash.of(bytes: filter.serializedBytes())
        let (asOf, cursor) = try PageToken.resume(pageToken, kind: "s", queryHash: queryHash, requestedAsOf: requestedAsOf, now: now)
        let matcher = SegmentMatcher(filter, state: self, asOf: asOf, evaluator: evaluator, cachedStages: true)
        var total: UInt64 = 0
        var remaining = 0
        var page: [(id: String, index: Int32)] = []
        page.reserveCapacity(pageSize + 1)
        if !matcher.matchesNothing {
            users.forEachChunk { first, chunk in
                let base = chunk.baseAddress!
                for offset in 0..<chunk.count {
                    let user = base + offset
                    guard user.pointee.deletedAtMs == 0, matcher.matches(user, index: first + offset) else { continue }
                    total += 1
                    if let cursor, user.pointee.id <= cursor { continue }
                    remaining += 1
                    if page.count == pageSize, let last = page.last, user.pointee.id >= last.id { continue }
                    let id = user.pointee.id
                    var low = 0
                    var high = page.count
                    while low < high {
                        let middle = (low + high) >> 1
                        if page[middle].id < id { low = middle + 1 } else { high = middle }
                    }
                    page.insert((id, Int32(first + offset)), at: low)
                    if page.count > pageSize { page.removeLast() }
                }
            }
        }
        var next = ""
        if remaining > page.count, let last = page.last {
            next = PageToken(kind: "s", queryHash: queryHash, asOf: asOf, cursor: last.id).encoded
        }
        return Retain_V1_ListSegmentResponse(
            users: page.map { item in
                var user = profile(item.index, now: asOf, evaluator: evaluator)
                // As of the first page's time, like the stages and the last_active condition.
                user.lastActiveMs = users[Int(item.index)].activity.lastActive(asOf: asOf, calendar: calendar)
                return user
            },
            pageInfo: Retain_V1_PageInfo(nextPageToken: next, total: total))
    }
}
