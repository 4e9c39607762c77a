import GatewayCore
import RetainProto
import RetainWire
import Testing

/// The gateway's saved-segment evaluation without sockets: Profile shards, Growth and the Ledger
/// faked in memory.
@Suite("saved segment evaluation across shards (no sockets)")
struct SavedSegmentEvaluationTests {
    /// A user: Profile's predicate bits (predicate 0 = "tag vip"), a level and a balance.
    struct FakeUser: Sendable {
        var id: String
        var vip: Bool
        var level: UInt32
        var points: Int64
    }

    /// Shards of users; MatchSegmentRule pages by user id with the last id as token.
    struct FakeSource: SavedSegmentSource {
        var shards: [[FakeUser]]
        var segment: Retain_V1_SavedSegment

        var profileShards: [String] { shards.indices.map { "profile-\($0)" } }

        func definition(_ name: String) async throws -> Retain_V1_SavedSegment {
            guard name == segment.name else { throw RPCError.notFound("saved segment", name) }
            return segment
        }

        func match(shard: Int, _ request: Retain_V1_MatchSegmentRuleRequest) async throws -> Retain_V1_MatchSegmentRuleResponse {
            let tree = try SegmentRuleTree(request.rule, field: "rule")
            var decided: UInt64 = 0
            var undecided: UInt64 = 0
            var candidates: [Retain_V1_SegmentCandidate] = []
            for user in shards[shard].sorted(by: { $0.id < $1.id }) {
                let bits: UInt64 = user.vip ? 1 : 0
                let verdict = tree.evaluate { tree.owner(of: $0) == .profile ? bits & (1 << UInt64($0)) != 0 : nil }
                guard verdict != false else { continue }
                if verdict == true { decided += 1 } else { undecided += 1 }
                if request.undecidedOnly, verdict == true { continue }
                if let token = request.page?.pageToken, !token.isEmpty, user.id <= token { continue }
                candidates.append(
                    Retain_V1_SegmentCandidate(
                        userId: user.id, decided: verdict == true, truePredicates: bits,
                        values: tree.predicates.indices.map { tree.owner(of: $0) == .profile ? (user.vip ? "true" : "false") : "" }))
            }
            let size = Int(request.page?.pageSize ?? 50)
            let page = Array(candidates.prefix(size))
            return Retain_V1_MatchSegmentRuleResponse(
                candidates: page,
                pageInfo: Retain_V1_PageInfo(
                    nextPageToken: candidates.count > size ? page.last!.userId : "", total: UInt64(candidates.count)),
                decided: decided, undecided: undecided)
        }

        func levels(_ userIDs: [String], asOf: Int64) async throws -> [Retain_V1_UserLevel] {
            let all = Dictionary(uniqueKeysWithValues: shards.joined().map { ($0.id, $0) })
            return userIDs.map { Retain_V1_UserLevel(userId: $0, level: all[$0]!.level, totalGrowth: Int64(all[$0]!.level) * 100) }
        }

        func balances(_ userIDs: [String], asset: String, asOf: Int64) async throws -> [Retain_V1_UserBalance] {
            let all = Dictionary(uniqueKeysWithValues: shards.joined().map { ($0.id, $0) })
            return userIDs.map { Retain_V1_UserBalance(userId: $0, balance: all[$0]!.points, available: all[$0]!.points) }
        }
    }

    /// 3 shards of 20 users with a deterministic mix of vip, level and points.
    func source(_ rule: Retain_V1_SegmentRule) -> FakeSource {
        var generator = SplitMix(seed: 7)
        var shards: [[FakeUser]] = [[], [], []]
        for number in 0..<60 {
            let user = FakeUser(
                id: "u\(String(number, radix: 36))\(number)", vip: generator.next() % 3 == 0, level: UInt32(generator.next() % 4 + 1),
                points: Int64(generator.next() % 1000))
            shards[Int(generator.next() % 3)].append(user)
        }
        return FakeSource(shards: shards, segment: Retain_V1_SavedSegment(name: "s", rule: rule, version: 3))
    }

    static let vip = Retain_V1_SegmentRule(tag: Retain_V1_TagPredicate(tag: "vip"))
    static let level3 = Retain_V1_SegmentRule(level: Retain_V1_LevelPredicate(hasMinLevel: true, minLevel: 3))
    static let rich = Retain_V1_SegmentRule(balance: Retain_V1_BalancePredicate(asset: "points", hasMin: true, minValue: 500))

    @Test(
        "count and every page size list exactly the brute-force members",
        arguments: [
            Retain_V1_SegmentRule(any: [vip, level3]), Retain_V1_SegmentRule(all: [vip, rich]),
            Retain_V1_SegmentRule(all: [Retain_V1_SegmentRule(none: [vip]), level3, rich]), vip,
        ])
    func bruteForce(rule: Retain_V1_SegmentRule) async throws {
        let source = source(rule)
        let tree = try SegmentRuleTree(rule, field: "rule")
        let expected = source.shards.joined().filter { user in
            tree.evaluate { number in
                switch tree.owner(of: number) {
                case .profile: user.vip
                case .growth: user.level >= 3
                case .ledger: user.points >= 500
                }
            } == true
        }.map(\.id).sorted()
        let evaluation = SavedSegmentEvaluation(source: source)
        #expect(try await evaluation.count("s", asOf: 0, now: 1000).count == UInt64(expected.count))
        for size in [1, 2, 7, 50] as [UInt32] {
            var token = ""
            var listed: [String] = []
            repeat {
                let page = try await evaluation.members("s", asOf: 0, pageToken: token, pageSize: size, now: 1000)
                #expect(page.members.count <= Int(size))
                #expect(page.columns.count == tree.predicates.count)
                #expect(page.version == 3 && page.asOfMs == 1000)
                listed += page.members.map(\.userId)
                token = page.pageInfo?.nextPageToken ?? ""
            } while !token.isEmpty
            #expect(listed == expected, "page size \(size)")
        }
        var streamed: [String] = []
        let used = try await evaluation.forEachPage("s", asOf: 0, pageSize: 3, now: 1000) { page in
            #expect(page.count <= 3)
            streamed += page.map(\.userId)
        }
        #expect(streamed == expected && used.version == 3 && used.asOf == 1000)
    }

    @Test("a token keeps its version and as-of time; bad names and tokens are refused naming the field")
    func tokens() async throws {
        var source = source(Self.vip)
        let evaluation = SavedSegmentEvaluation(source: source)
        let first = try await evaluation.members("s", asOf: 500, pageToken: "", pageSize: 2, now: 1000)
        let token = try #require(first.pageInfo?.nextPageToken)
        #expect(token.hasPrefix("g1.3.500."))
        let second = try await evaluation.members("s", asOf: 0, pageToken: token, pageSize: 2, now: 9999)
        #expect(second.asOfMs == 500)
        await #expect(throws: SavedSegmentError.invalid(field: "as_of_ms", reason: "must stay 500 across pages, not 600")) {
            try await evaluation.members("s", asOf: 600, pageToken: token, pageSize: 2, now: 1000)
        }
        await #expect(throws: SavedSegmentError.invalid(field: "page.page_token", reason: "malformed page token")) {
            try await evaluation.members("s", asOf: 0, pageToken: "nonsense", pageSize: 2, now: 1000)
        }
        await #expect(throws: SavedSegmentError.self) {
            try await evaluation.members("Bad Name", asOf: 0, pageToken: "", pageSize: 2, now: 1000)
        }
        source.segment.version = 4
        await #expect(throws: SavedSegmentError.self) {
            try await SavedSegmentEvaluation(source: source).members("s", asOf: 0, pageToken: token, pageSize: 2, now: 1000)
        }
    }
}
