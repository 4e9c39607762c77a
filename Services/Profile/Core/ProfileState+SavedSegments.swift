public import RetainProto

/// Saved segments: named, versioned rules kept in the state (logged, snapshotted, replicated),
/// and their evaluation over this shard's users (MatchSegmentRule).
extension ProfileState {
    /// Most saved segments one state keeps.
    public static let maximumSavedSegments = 1000

    /// What a PutSavedSegment means.
    public enum SavedSegmentPlan: Sendable {
        /// Log this entry, then answer the stored definition.
        case write(Retain_V1_ProfileLogEntry)
        /// Nothing changes (a retry of the same definition): answer the stored one.
        case unchanged(Retain_V1_SavedSegment)
    }

    /// The saved segment `name`, or nil.
    public func savedSegment(_ name: String) -> Retain_V1_SavedSegment? { savedSegments[name] }

    /// Every saved segment, by name.
    public func allSavedSegments() -> [Retain_V1_SavedSegment] {
        savedSegments.keys.sorted().map { savedSegments[$0]! }
    }

    /// The entry that creates (`create`) or replaces a saved segment (name, description and rule
    /// already validated). The same description and rule as the stored ones change nothing
    /// (``SavedSegmentPlan/unchanged(_:)``): a write retried after some shards took it keeps
    /// every shard at the same version.
    ///
    /// - Throws: `.exists` (create, another definition stored), `.notFound` (replace, none),
    ///   `.versionMismatch`, `.refused` (too many saved segments).
    public func planSavedSegment(
        _ segment: Retain_V1_SavedSegment, create: Bool, expectedVersion: UInt64, actor: String, now: Int64
    ) throws(ProfileError) -> SavedSegmentPlan {
        let stored = savedSegments[segment.name]
        if let stored, expectedVersion != 0, expectedVersion != stored.version {
            throw .versionMismatch("expected_version \(expectedVersion) does not match the stored version \(stored.version)")
        }
        if let stored, stored.description == segment.description,
            (stored.rule ?? Retain_V1_SegmentRule()).serializedBytes() == (segment.rule ?? Retain_V1_SegmentRule()).serializedBytes()
        {
            return .unchanged(stored)
        }
        if create, stored != nil { throw .exists("saved segment '\(segment.name)' already exists with another definition") }
        if !create, stored == nil { throw .notFound(what: "saved segment", id: segment.name) }
        if stored == nil, savedSegments.count >= Self.maximumSavedSegments {
            throw .refused("at most \(Self.maximumSavedSegments) saved segments are kept; delete one first")
        }
        if create, expectedVersion != 0 {
            throw .versionMismatch("expected_version \(expectedVersion) does not match: no segment '\(segment.name)' is stored")
        }
        let given = Retain_V1_SavedSegment(name: segment.name, description: segment.description, rule: segment.rule)
        return .write(
            Retain_V1_ProfileLogEntry(
                savedSegmentChange: Retain_V1_ProfileSavedSegmentChange(segment: given, actor: actor, atMs: now)))
    }

    /// The entry that deletes saved segment `name`, or nil when none is stored.
    public func planSavedSegmentDeletion(_ name: String, actor: String, now: Int64) -> Retain_V1_ProfileLogEntry? {
        guard savedSegments[name] != nil else { return nil }
        return Retain_V1_ProfileLogEntry(
            savedSegmentChange: Retain_V1_ProfileSavedSegmentChange(
                segment: Retain_V1_SavedSegment(name: name), deleted: true, actor: actor, atMs: now))
    }

    mutating func applySavedSegmentChange(_ entry: Retain_V1_ProfileSavedSegmentChange) throws {
        guard let given = entry.segment, !given.name.isEmpty else {
            throw ProfileError.corrupt("saved segment change without a name")
        }
        if entry.deleted {
            savedSegments[given.name] = nil
            return
        }
        let stored = savedSegments[given.name]
        savedSegments[given.name] = Retain_V1_SavedSegment(
            name: given.name, description: given.description, rule: given.rule, version: (stored?.version ?? 0) + 1,
            createdBy: stored?.createdBy ?? entry.actor, createdAtMs: stored?.createdAtMs ?? entry.atMs,
            updatedBy: entry.actor, updatedAtMs: entry.atMs)
    }

    /// One page of this shard's users (not deleted, registered by `asOf`) for whom `tree` is
    /// true or undecided (it depends on other services' predicates), ordered by user id, with
    /// the counts of decided and undecided users over every page.
    ///
    /// - Parameters:
    ///   - pageSize: Users per page (validated: 1 to 1000); 0 counts only (no users listed).
    ///   - pageToken: The previous page's token, or "".
    ///   - asOf: The as-of time of a first page (later pages use their token's); nil: `now`.
    ///   - undecidedOnly: List (and count as total) only the undecided users.
    ///   - withValues: Fill each candidate's values.
    /// - Throws: `.invalid` for a malformed or foreign token, or an as-of time that differs from
    ///   the first page's.
    public func matchSegmentRule(
        _ tree: SegmentRuleTree, pageSize: Int, pageToken: String, asOf requestedAsOf: Int64?, now: Int64,
        undecidedOnly: Bool, withValues: Bool, evaluator: LifecycleEvaluator
    ) throws(ProfileError) -> Retain_V1_MatchSegmentRuleResponse {
        var hashed = tree.rule.serializedBytes()
        hashed.append(undecidedOnly ? 1 : 0)
        let queryHash = StableHash.of(bytes: hashed)
        let (asOf, cursor) = try PageToken.resume(pageToken, kind: "r", queryHash: queryHash, requestedAsOf: requestedAsOf, now: now)
        let matcher = SegmentRuleMatcher(tree, state: self, asOf: asOf, evaluator: evaluator)
        var decided: UInt64 = 0
        var undecided: UInt64 = 0
        var remaining = 0
        var page: [(id: String, index: Int32, decided: Bool, bits: UInt64)] = []
        page.reserveCapacity(pageSize + 1)
        users.forEachChunk { first, chunk in
            let base = chunk.baseAddress!
            for offset in 0..<chunk.count {
                let user = base + offset
                guard user.pointee.deletedAtMs == 0, user.pointee.registeredAtMs <= asOf else { continue }
                let (verdict, bits) = matcher.verdict(user, index: Int32(first + offset))
                if verdict == false { continue }
                if verdict == true { decided += 1 } else { undecided += 1 }
                guard pageSize > 0, !(undecidedOnly && verdict == true) else { continue }
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
                page.insert((id, Int32(first + offset), verdict == true, bits), at: low)
                if page.count > pageSize { page.removeLast() }
            }
        }
        var next = ""
        if remaining > page.count, let last = page.last {
            next = PageToken(kind: "r", queryHash: queryHash, asOf: asOf, cursor: last.id).encoded
        }
        let candidates = page.map { item in
            Retain_V1_SegmentCandidate(
                userId: item.id, decided: item.decided, truePredicates: item.bits,
                values: withValues ? users.withPointer(Int(item.index)) { matcher.values($0, index: item.index, state: self) } : [])
        }
        return Retain_V1_MatchSegmentRuleResponse(
            candidates: candidates,
            pageInfo: Retain_V1_PageInfo(nextPageToken: next, total: undecidedOnly ? undecided : decided + undecided),
            decided: decided, undecided: undecided)
    }
}
