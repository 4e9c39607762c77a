public import RetainProto
import RetainWire

/// "The members of saved segment NAME as of T", across every Profile shard, Growth shard and
/// the Ledger: counted, or listed page by page with one cursor (docs/CLUSTER.md#saved-segments).
/// Recall campaigns take their audience from ``members(_:asOf:pageToken:pageSize:now:)``.
///
/// Each Profile shard evaluates the rule's Profile predicates over its users
/// (Profile.MatchSegmentRule) and answers the users for whom the rule is true or undecided;
/// an undecided user's level and balance predicates are read here in batches (Growth.GetLevels
/// split by owner, and Ledger.GetBalances, both as of the same time) and the rule decided in three-valued logic
/// (``SegmentRuleTree``).
public struct SavedSegmentEvaluation<Source: SavedSegmentSource>: Sendable {
    /// Users per Profile page when counting, and per level or balance batch.
    public static var batchSize: Int { 1000 }
    /// Most rounds of Profile pages one members page takes before it answers a short page.
    public static var maximumRounds: Int { 16 }

    let source: Source

    public init(source: Source) {
        self.source = source
    }

    /// The number of members of saved segment `name` as of `asOf` (0: `now`).
    public func count(_ name: String, asOf: Int64, now: Int64) async throws -> Retain_V1_CountSavedSegmentResponse {
        try Self.validateName(name)
        let time = try Self.resolve(asOf: asOf, now: now)
        let segment = try await source.definition(name)
        let tree = try SegmentRuleTree(segment.rule, field: "rule")
        let rule = tree.rule
        let source = source
        let counts = try await withThrowingTaskGroup(of: UInt64.self) { group in
            for shard in source.profileShards.indices {
                group.addTask {
                    var count: UInt64 = 0
                    var token = ""
                    repeat {
                        let answer = try await source.match(
                            shard: shard,
                            Retain_V1_MatchSegmentRuleRequest(
                                rule: rule, asOfMs: time,
                                page: Retain_V1_PageRequest(pageSize: UInt32(Self.batchSize), pageToken: token),
                                undecidedOnly: true))
                        if token.isEmpty { count += answer.decided }
                        if !answer.candidates.isEmpty {
                            let decided = try await Self.decide(
                                answer.candidates, tree: tree, asOf: time, balancesAsOf: asOf, source: source, values: false)
                            count += UInt64(decided.count(where: { $0 != nil }))
                        }
                        token = answer.pageInfo?.nextPageToken ?? ""
                    } while !token.isEmpty
                    return count
                }
            }
            var total: UInt64 = 0
            for try await count in group { total += count }
            return total
        }
        return Retain_V1_CountSavedSegmentResponse(count: counts, version: segment.version, asOfMs: time)
    }

    /// One page of the members of saved segment `name`, ordered by user id, with the values of
    /// the fields the rule tests. A page may be short while more follow (the rule's level or
    /// balance predicates removed candidates and ``maximumRounds`` were taken): only an empty
    /// next page token ends the list.
    ///
    /// - Parameters:
    ///   - asOf: The as-of time of a first page (0: `now`); later pages keep their token's.
    ///   - pageToken: The previous page's token, or "".
    ///   - pageSize: Members per page, 1 to 1000; 0 means 50.
    public func members(
        _ name: String, asOf: Int64, pageToken: String, pageSize requested: UInt32, now: Int64
    ) async throws -> Retain_V1_ListSavedSegmentMembersResponse {
        try Self.validateName(name)
        guard requested <= 1000 else {
            throw SavedSegmentError.invalid(field: "page.page_size", reason: "must be 1 to 1000, or 0 for 50; not \(requested)")
        }
        let size = requested == 0 ? 50 : Int(requested)
        let segment = try await source.definition(name)
        let tree = try SegmentRuleTree(segment.rule, field: "rule")
        let shards = source.profileShards
        var time = try Self.resolve(asOf: asOf, now: now)
        var live = asOf == 0
        var cursor = ShardCursor(shards: shards)
        if !pageToken.isEmpty {
            let token = try MembersToken(decoding: pageToken)
            guard token.version == segment.version else {
                throw SavedSegmentError.definitionChanged(
                    "saved segment '\(name)' changed since the first page (version \(token.version), now \(segment.version)): start again")
            }
            if asOf != 0, asOf != token.asOf {
                throw SavedSegmentError.invalid(field: "as_of_ms", reason: "must stay \(token.asOf) across pages, not \(asOf)")
            }
            time = token.asOf
            live = token.live
            do {
                cursor = try ShardCursor(decoding: token.cursor, shards: shards)
            } catch {
                throw SavedSegmentError.invalid(field: "page.page_token", reason: "the page token was issued for another set of shards")
            }
        }
        var members: [Retain_V1_SegmentMember] = []
        var rounds = 0
        while members.count < size, !cursor.isDone, rounds < Self.maximumRounds {
            rounds += 1
            let want = size - members.count
            let merged = try await mergedPage(tree: tree, asOf: time, cursor: cursor, size: want)
            cursor = merged.cursor
            let decided = try await Self.decide(
                merged.items, tree: tree, asOf: time, balancesAsOf: live ? 0 : time, source: source, values: true)
            for (candidate, values) in zip(merged.items, decided) {
                guard let values else { continue }
                members.append(Retain_V1_SegmentMember(userId: candidate.userId, values: values))
            }
        }
        let next = cursor.isDone ? "" : MembersToken(version: segment.version, asOf: time, live: live, cursor: cursor.encoded).encoded
        return Retain_V1_ListSavedSegmentMembersResponse(
            members: members, pageInfo: Retain_V1_PageInfo(nextPageToken: next),
            columns: tree.predicates.indices.map { tree.column($0) }, version: segment.version, asOfMs: time)
    }

    /// Every member of saved segment `name` as of `asOf` (0: `now`), page by page: `body` gets
    /// each page in user-id order and only one page is held at a time (a recall campaign's
    /// audience, an export). The as-of time and the definition's version stay those of the
    /// first page; a change of the definition meanwhile fails with
    /// ``SavedSegmentError/definitionChanged(_:)``.
    ///
    /// - Returns: The version evaluated and the as-of time used.
    @discardableResult
    public func forEachPage(
        _ name: String, asOf: Int64, pageSize: UInt32 = 1000, now: Int64,
        _ body: ([Retain_V1_SegmentMember]) async throws -> Void
    ) async throws -> (version: UInt64, asOf: Int64) {
        var token = ""
        var first: Retain_V1_ListSavedSegmentMembersResponse?
        repeat {
            let page = try await members(name, asOf: token.isEmpty ? asOf : 0, pageToken: token, pageSize: pageSize, now: now)
            if first == nil { first = page }
            if !page.members.isEmpty { try await body(page.members) }
            token = page.pageInfo?.nextPageToken ?? ""
        } while !token.isEmpty
        return (first?.version ?? 0, first?.asOfMs ?? asOf)
    }

    /// The next `size` candidates over every shard from `cursor`, merged by user id
    /// (``PagedMerge``), with the cursor after them.
    private func mergedPage(
        tree: SegmentRuleTree, asOf: Int64, cursor: ShardCursor, size: Int
    ) async throws -> PagedMerge<Retain_V1_SegmentCandidate> {
        let source = source
        let rule = tree.rule
        func request(_ size: Int, _ token: String) -> Retain_V1_MatchSegmentRuleRequest {
            Retain_V1_MatchSegmentRuleRequest(
                rule: rule, asOfMs: asOf, page: Retain_V1_PageRequest(pageSize: UInt32(size), pageToken: token), withValues: true)
        }
        let answers = try await withThrowingTaskGroup(of: (Int, Retain_V1_MatchSegmentRuleResponse).self) { group in
            for (shard, position) in cursor.positions.enumerated() {
                guard let token = position.token else { continue }
                group.addTask { (shard, try await source.match(shard: shard, request(size, token))) }
            }
            var answers: [(Int, Retain_V1_MatchSegmentRuleResponse)] = []
            for try await answer in group { answers.append(answer) }
            return answers
        }
        var pages: [Int: PagedMerge<Retain_V1_SegmentCandidate>.ShardPage] = [:]
        for (shard, answer) in answers {
            pages[shard] = .init(
                items: answer.candidates, nextPageToken: answer.pageInfo?.nextPageToken ?? "", total: answer.pageInfo?.total ?? 0)
        }
        var merged = PagedMerge(cursor: cursor, pages: pages, size: size) { $0.userId < $1.userId }
        for advance in merged.advances {
            // The token after exactly the candidates taken: the same page again, that many long.
            let answer = try await source.match(shard: advance.shard, request(advance.count, advance.from.token ?? ""))
            merged.advance(advance.shard, to: answer.pageInfo?.nextPageToken ?? "")
        }
        return merged
    }

    /// For each candidate: nil when the rule is false for it, else the values of the rule's
    /// predicates (empty unless `values`). Level and balance predicates are read in batches,
    /// levels as of `asOf`, balances as of `balancesAsOf` (0: the current available balance,
    /// for a call about now).
    static func decide(
        _ candidates: [Retain_V1_SegmentCandidate], tree: SegmentRuleTree, asOf: Int64, balancesAsOf: Int64, source: Source,
        values: Bool
    ) async throws -> [[String]?] {
        let owners = tree.predicates.indices.map { tree.owner(of: $0) }
        let readAll = values  // the export shows every member's level and balance, decided or not
        let needed = readAll ? candidates : candidates.filter { !$0.decided }
        var levels: [String: Retain_V1_UserLevel] = [:]
        var balances: [String: [String: Retain_V1_UserBalance]] = [:]
        if !needed.isEmpty {
            let ids = needed.map(\.userId)
            if owners.contains(.growth) {
                for start in stride(from: 0, to: ids.count, by: batchSize) {
                    for level in try await source.levels(Array(ids[start..<min(start + batchSize, ids.count)]), asOf: asOf) {
                        levels[level.userId] = level
                    }
                }
            }
            let assets = Set(tree.predicates.compactMap { $0.balance?.asset })
            for asset in assets.sorted() {
                var read: [String: Retain_V1_UserBalance] = [:]
                for start in stride(from: 0, to: ids.count, by: batchSize) {
                    for balance in try await source.balances(
                        Array(ids[start..<min(start + batchSize, ids.count)]), asset: asset, asOf: balancesAsOf)
                    {
                        read[balance.userId] = balance
                    }
                }
                balances[asset] = read
            }
        }
        return candidates.map { candidate in
            func holds(_ number: Int) -> Bool? {
                let predicate = tree.predicates[number]
                switch owners[number] {
                case .profile:
                    return candidate.truePredicates & (1 << UInt64(number)) != 0
                case .growth:
                    guard let level = levels[candidate.userId], let condition = predicate.level else { return nil }
                    return SegmentPredicates.holds(condition, level: level)
                case .ledger:
                    guard let condition = predicate.balance, let balance = balances[condition.asset]?[candidate.userId] else {
                        return nil
                    }
                    return SegmentPredicates.holds(condition, available: balance.available)
                }
            }
            guard candidate.decided || tree.evaluate(holds) == true else { return nil }
            guard values else { return [] }
            return tree.predicates.indices.map { number in
                let predicate = tree.predicates[number]
                switch owners[number] {
                case .profile:
                    return number < candidate.values.count ? candidate.values[number] : ""
                case .growth:
                    guard let level = levels[candidate.userId], let condition = predicate.level else { return "" }
                    return condition.hasMinLevel || condition.hasMaxLevel ? String(level.level) : String(level.totalGrowth)
                case .ledger:
                    guard let condition = predicate.balance, let balance = balances[condition.asset]?[candidate.userId] else {
                        return ""
                    }
                    return String(balance.available)
                }
            }
        }
    }

    private static func validateName(_ name: String) throws {
        guard FieldFormat.isName(name) else {
            throw SavedSegmentError.invalid(
                field: "name",
                reason: name.isEmpty ? "is required" : "must be 1 to 64 bytes of lower-case ASCII letters, digits, '_', '.' or '-'")
        }
    }

    private static func resolve(asOf: Int64, now: Int64) throws -> Int64 {
        guard asOf >= 0 else { throw SavedSegmentError.invalid(field: "as_of_ms", reason: "must not be negative") }
        return asOf == 0 ? now : asOf
    }
}

/// The level and balance predicates, decided from what Growth and the Ledger answer.
public enum SegmentPredicates {
    /// Whether `level` satisfies `condition`'s bounds.
    public static func holds(_ condition: Retain_V1_LevelPredicate, level: Retain_V1_UserLevel) -> Bool {
        if condition.hasMinLevel, level.level < condition.minLevel { return false }
        if condition.hasMaxLevel, level.level > condition.maxLevel { return false }
        if condition.hasMinPoints, level.totalGrowth < condition.minPoints { return false }
        if condition.hasMaxPoints, level.totalGrowth > condition.maxPoints { return false }
        return true
    }

    /// Whether an available balance satisfies `condition`'s bounds.
    public static func holds(_ condition: Retain_V1_BalancePredicate, available: Int64) -> Bool {
        if condition.hasMin, available < condition.minValue { return false }
        if condition.hasMax, available > condition.maxValue { return false }
        return true
    }
}

/// The page token of ListSavedSegmentMembers: `g1.<version>.<as_of_ms>.<live>.<ShardCursor token>`.
/// It keeps the as-of time (every page is evaluated as of the first page's time), whether the
/// first page asked about now (`live` 1: balances are the current available ones) and the
/// definition's version (a token of an older version is refused rather than mixing two rules).
struct MembersToken: Equatable {
    var version: UInt64
    var asOf: Int64
    var live: Bool
    var cursor: String

    var encoded: String { "g1.\(version).\(asOf).\(live ? 1 : 0).\(cursor)" }

    init(version: UInt64, asOf: Int64, live: Bool, cursor: String) {
        self.version = version
        self.asOf = asOf
        self.live = live
        self.cursor = cursor
    }

    init(decoding text: String) throws(SavedSegmentError) {
        let parts = text.split(separator: ".", maxSplits: 4, omittingEmptySubsequences: false)
        guard parts.count == 5, parts[0] == "g1", let version = UInt64(parts[1]), let asOf = Int64(parts[2]),
            parts[3] == "0" || parts[3] == "1", !parts[4].isEmpty
        else {
            throw .invalid(field: "page.page_token", reason: "malformed page token")
        }
        self.init(version: version, asOf: asOf, live: parts[3] == "1", cursor: String(parts[4]))
    }
}
