import Foundation
import GatewayCore
import NIOCore
import RetainProto
import RetainRPC
import RetainWire

/// One call sent to every shard of a service and merged by its ``ScatterRule``: which shards
/// answered, which did not (``missing``), and the merge (``ReportMerge``, ``PagedMerge``,
/// ``ActivityBatchSplit``). Built per call by ``Forwarder/answer(_:path:request:options:deadline:)``.
struct Scatter {
    let forwarder: Forwarder
    let route: Forwarder.Route
    let path: String
    let options: CallOptions
    let deadline: ContinuousClock.Instant
    /// Whether the caller accepts a partial answer.
    let partial: Bool
    /// The shards left out of a partial answer, in ring order.
    private(set) var missing: [String] = []

    init(
        forwarder: Forwarder, route: Forwarder.Route, path: String, options: CallOptions,
        deadline: ContinuousClock.Instant, partial: Bool
    ) {
        self.forwarder = forwarder
        self.route = route
        self.path = path
        self.options = options
        self.deadline = deadline
        self.partial = partial
    }

    /// The shard ids, in ring order.
    var shards: [String] { route.backends.backends.map(\.id) }

    /// The answer by `rule`, encoded.
    mutating func answer(_ rule: ScatterRule, request: ByteBuffer) async throws -> ByteBuffer {
        switch rule {
        case .anyShard, .oneShardStream, .shardLocal:
            return try await forwarder.unary(readRoute, path: path, user: nil, request: request, options: options, deadline: deadline)
        case .itemOwner:
            return try await itemOwner(request)
        case .everyShard:
            let replies = await forwarder.gather(route, path: path, requests: broadcast(request), options: options, deadline: deadline)
            return try everyShard(replies)[0]
        case .activityBatch:
            return try await activityBatch(request)
        case .levelBatch:
            return try await levelBatch(request)
        case .countSegment:
            var merged = ReportMerge.countSegment(try await all(request, Retain_V1_CountSegmentResponse.self))
            merged.missingShards = missing
            return Self.encode(merged)
        case .retention:
            var merged = ReportMerge.retention(try await all(request, Retain_V1_GetRetentionResponse.self))
            merged.missingShards = missing
            return Self.encode(merged)
        case .activeUsers:
            var merged = ReportMerge.activeUsers(try await all(request, Retain_V1_GetActiveUsersResponse.self))
            merged.missingShards = missing
            return Self.encode(merged)
        case .funnel:
            var merged = ReportMerge.funnel(try await all(request, Retain_V1_GetFunnelResponse.self))
            merged.missingShards = missing
            return Self.encode(merged)
        case .experimentResults:
            return try await experimentResults(request)
        case .contactPolicy:
            return Self.encode(ReportMerge.contactPolicy(try await all(request, Retain_V1_GetContactPolicyResponse.self)))
        case .leaderboard:
            let limit = ReportMerge.leaderboardLimit(try Self.decode(request, Retain_V1_GetLeaderboardRequest.self))
            var merged = ReportMerge.leaderboard(try await all(request, Retain_V1_GetLeaderboardResponse.self), limit: limit)
            merged.missingShards = missing
            return Self.encode(merged)
        case .levelDistribution:
            var merged = ReportMerge.levelDistribution(try await all(request, Retain_V1_GetLevelDistributionResponse.self))
            merged.missingShards = missing
            return Self.encode(merged)
        case .feedbackStats:
            var merged = ReportMerge.feedbackStats(try await all(request, Retain_V1_GetFeedbackStatsResponse.self))
            merged.missingShards = missing
            return Self.encode(merged)
        case .listSegment:
            return try await list(
                request, Retain_V1_ListSegmentRequest.self, Retain_V1_ListSegmentResponse.self, page: \.page,
                items: \.users, pageInfo: \.pageInfo, precedes: ReportMerge.segmentOrder
            ) { users, info, missing in
                Retain_V1_ListSegmentResponse(users: users, pageInfo: info, missingShards: missing)
            }
        case .churnWarnings:
            return try await list(
                request, Retain_V1_ListChurnWarningsRequest.self, Retain_V1_ListChurnWarningsResponse.self,
                page: \.page, items: \.warnings, pageInfo: \.pageInfo, precedes: ReportMerge.churnOrder
            ) { warnings, info, missing in
                Retain_V1_ListChurnWarningsResponse(warnings: warnings, pageInfo: info, missingShards: missing)
            }
        case .listFeedback:
            let sort = try Self.decode(request, Retain_V1_ListFeedbackRequest.self).sort
            return try await list(
                request, Retain_V1_ListFeedbackRequest.self, Retain_V1_ListFeedbackResponse.self, page: \.page,
                items: \.items, pageInfo: \.pageInfo, precedes: ReportMerge.feedbackOrder(sort)
            ) { items, info, missing in
                Retain_V1_ListFeedbackResponse(items: items, pageInfo: info, missingShards: missing)
            }
        case .listOverdue:
            return try await list(
                request, Retain_V1_ListOverdueRequest.self, Retain_V1_ListOverdueResponse.self, page: \.page,
                items: \.items, pageInfo: \.pageInfo, precedes: ReportMerge.overdueOrder
            ) { items, info, missing in
                Retain_V1_ListOverdueResponse(items: items, pageInfo: info, missingShards: missing)
            }
        case .faq:
            return try await faq(request)
        case .boardPosition:
            let asked = try Self.decode(request, Retain_V1_GetBoardPositionRequest.self)
            guard asked.neighbours <= BoardPositionMerge.maximumNeighbours else {
                throw RPCError.invalidArgument(
                    field: "neighbours", "must be 0 to \(BoardPositionMerge.maximumNeighbours), not \(asked.neighbours)")
            }
            var merged = try await position(asked, neighbours: Int(asked.neighbours)).position
            merged.missingShards = missing
            return Self.encode(merged)
        case .rank:
            return try await rank(request)
        case .shardPositions:
            throw RPCError(
                .failedPrecondition,
                "\(path) pages by one shard's positions and \(route.backends.name) has \(route.backends.backends.count) shards: ask each shard directly"
            )
        case .campaignEnrollment:
            return try await campaignEnrollment(request)
        case .campaignStatus:
            return Self.encode(ReportMerge.campaignStatus(try await all(request, Retain_V1_GetCampaignResponse.self)))
        case .campaignList:
            return Self.encode(ReportMerge.campaignList(try await all(request, Retain_V1_ListCampaignsResponse.self)))
        case .campaignTouches:
            let replies = await forwarder.gather(route, path: path, requests: broadcast(request), options: options, deadline: deadline)
            let answers = try everyShard(replies).map { try Self.decodeAnswer($0, Retain_V1_TouchCampaignMembersResponse.self) }
            return Self.encode(ReportMerge.campaignTouches(answers))
        case .campaignResults:
            var merged = ReportMerge.campaignResults(try await all(request, Retain_V1_GetCampaignResultsResponse.self))
            merged.missingShards = missing
            return Self.encode(merged)
        case .webhookSubscribe, .webhookSubscriptions, .webhookDelete, .webhookRedeliver, .webhookDeliveries, .webhookDeadLetters:
            return try await webhooks(rule, request: request)
        }
    }

    /// Every shard's answer, in shard order; throws the first failure, naming its shard.
    func everyShard(_ replies: [Forwarder.ShardReply<ByteBuffer>]) throws -> [ByteBuffer] {
        try replies.map { reply in
            switch reply.result {
            case .success(let answer): return answer
            case .failure(let error): throw Forwarder.shardError(error, shard: shards[reply.shard])
            }
        }
    }

    /// EnrollCampaignMembers split by each user's owner, the parts sent in parallel; every part
    /// must succeed (a retry of the whole call is safe: enrolled users stay as they are).
    private func campaignEnrollment(_ request: ByteBuffer) async throws -> ByteBuffer {
        let asked = try Self.decode(request, Retain_V1_EnrollCampaignMembersRequest.self)
        let planner = route.backends.planner
        let split = CampaignEnrollmentSplit(asked) { planner.placement(of: $0)?.owner ?? 0 }
        guard !split.shards.isEmpty else {
            // No users: the first shard refuses the request as it came.
            let replies = await forwarder.gather(route, path: path, requests: [(0, request)], options: options, deadline: deadline)
            return try everyShard(replies)[0]
        }
        let replies = await forwarder.gather(
            route, path: path, requests: split.shards.map { ($0, Self.encode(split.request(for: $0))) },
            options: options, deadline: deadline)
        var answers: [Int: Retain_V1_EnrollCampaignMembersResponse] = [:]
        for (reply, answer) in zip(replies, try everyShard(replies)) {
            answers[reply.shard] = try Self.decodeAnswer(answer, Retain_V1_EnrollCampaignMembersResponse.self)
        }
        return Self.encode(split.merge(answers))
    }

    /// The route for reads: safe to send again.
    var readRoute: Forwarder.Route {
        Forwarder.Route(backends: route.backends, input: route.input, userKeyed: false, streaming: false, idempotent: true)
    }

    func broadcast(_ request: ByteBuffer) -> [(shard: Int, request: ByteBuffer)] {
        shards.indices.map { ($0, request) }
    }

    /// The shards' answers to the same request, decoded, of the shards that answered; throws
    /// the first failure (naming its shard) unless the caller accepts a partial answer and one
    /// shard at least answered.
    private mutating func all<Output: ProtoMessage>(
        _ request: ByteBuffer, _ output: Output.Type, path: String? = nil
    ) async throws -> [Output] {
        let replies = await forwarder.gather(
            readRoute, path: path ?? self.path, requests: broadcast(request), options: options, deadline: deadline)
        return try settle(replies).map { try Self.decodeAnswer($0.answer, output) }
    }

    /// The answers of the shards that answered, by shard; records the missing shards, or throws.
    private mutating func settle(_ replies: [Forwarder.ShardReply<ByteBuffer>]) throws -> [(shard: Int, answer: ByteBuffer)] {
        var answers: [(shard: Int, answer: ByteBuffer)] = []
        var failures: [(shard: Int, error: RPCError)] = []
        for reply in replies {
            switch reply.result {
            case .success(let answer): answers.append((reply.shard, answer))
            case .failure(let error): failures.append((reply.shard, error))
            }
        }
        if let first = failures.first {
            // A refused request (INVALID_ARGUMENT) is the caller's, whatever the partial setting.
            guard partial, !answers.isEmpty, first.error.code != .invalidArgument else {
                throw Forwarder.shardError(first.error, shard: shards[first.shard])
            }
            missing += failures.map { shards[$0.shard] }.filter { !missing.contains($0) }
        }
        return answers
    }

    /// A call about one item: the answer of the shard that holds it. NOT_FOUND when no shard
    /// does; a shard that failed otherwise fails the call (the item may be there).
    private func itemOwner(_ request: ByteBuffer) async throws -> ByteBuffer {
        let replies = await forwarder.gather(route, path: path, requests: broadcast(request), options: options, deadline: deadline)
        var notFound: RPCError?
        var failure: (shard: Int, error: RPCError)?
        for reply in replies {
            switch reply.result {
            case .success(let answer): return answer
            case .failure(let error) where error.code == .notFound: notFound = notFound ?? error
            case .failure(let error): failure = failure ?? (reply.shard, error)
            }
        }
        if let failure { throw Forwarder.shardError(failure.error, shard: shards[failure.shard]) }
        throw notFound ?? RPCError(.notFound, "not found on any shard")
    }

    /// GetExperimentResults: every shard; a shard none of whose users was assigned does not know
    /// the experiment (NOT_FOUND) and adds nothing; NOT_FOUND only when no shard knows it.
    private mutating func experimentResults(_ request: ByteBuffer) async throws -> ByteBuffer {
        let replies = await forwarder.gather(readRoute, path: path, requests: broadcast(request), options: options, deadline: deadline)
        var notFound: RPCError?
        var others: [Forwarder.ShardReply<ByteBuffer>] = []
        for reply in replies {
            if case .failure(let error) = reply.result, error.code == .notFound {
                notFound = notFound ?? error
            } else {
                others.append(reply)
            }
        }
        let answers = try settle(others).map { try Self.decodeAnswer($0.answer, Retain_V1_GetExperimentResultsResponse.self) }
        guard !answers.isEmpty else { throw notFound ?? RPCError(.notFound, "experiment not found on any shard") }
        var merged = ReportMerge.experimentResults(answers)
        merged.missingShards = missing
        return Self.encode(merged)
    }

    /// RecordActivities split by each event's owner, the parts sent in parallel, answered in the
    /// caller's order; a part whose shard fails is reported per event.
    private func activityBatch(_ request: ByteBuffer) async throws -> ByteBuffer {
        let batch = try Self.decode(request, Retain_V1_RecordActivitiesRequest.self)
        let planner = route.backends.planner
        let split = ActivityBatchSplit(events: batch.events) { planner.placement(of: $0)?.owner ?? 0 }
        guard split.shards.count > 1 else {
            // Empty, or every event on one shard: the call as it came, to that shard.
            let shard = split.shards.first ?? 0
            let replies = await forwarder.gather(route, path: path, requests: [(shard, request)], options: options, deadline: deadline)
            return try replies[0].result.get()
        }
        let replies = await forwarder.gather(
            route, path: path, requests: split.shards.map { ($0, Self.encode(split.request(for: $0))) },
            options: options, deadline: deadline)
        var results: [Int: Result<Retain_V1_RecordActivitiesResponse, ActivityBatchSplit.PartFailure>] = [:]
        var firstFailure: (shard: Int, error: RPCError)?
        for reply in replies {
            switch reply.result {
            case .success(let answer):
                results[reply.shard] = .success(try Self.decodeAnswer(answer, Retain_V1_RecordActivitiesResponse.self))
            case .failure(let error):
                // A batch refused as a whole is refused for the caller too.
                if error.code == .invalidArgument { throw Forwarder.shardError(error, shard: shards[reply.shard]) }
                firstFailure = firstFailure ?? (reply.shard, error)
                results[reply.shard] = .failure(
                    .init(shard: shards[reply.shard], code: UInt32(error.code.rawValue), message: error.message))
            }
        }
        if let firstFailure, !results.values.contains(where: { (try? $0.get()) != nil }) {
            throw Forwarder.shardError(firstFailure.error, shard: shards[firstFailure.shard])
        }
        return Self.encode(split.merge(results))
    }

    /// GetLevels split by each user's owner, the parts sent in parallel, answered in the caller's
    /// order; a part whose shard fails fails the call, naming the shard.
    private func levelBatch(_ request: ByteBuffer) async throws -> ByteBuffer {
        let batch = try Self.decode(request, Retain_V1_GetLevelsRequest.self)
        let planner = route.backends.planner
        var parts: [Int: [String]] = [:]
        for id in batch.userIds { parts[planner.placement(of: id)?.owner ?? 0, default: []].append(id) }
        let replies = await forwarder.gather(
            readRoute, path: path,
            requests: parts.keys.sorted().map { ($0, Self.encode(Retain_V1_GetLevelsRequest(userIds: parts[$0]!, asOfMs: batch.asOfMs))) },
            options: options, deadline: deadline)
        var byUser: [String: Retain_V1_UserLevel] = [:]
        for reply in replies {
            switch reply.result {
            case .success(let answer):
                for level in try Self.decodeAnswer(answer, Retain_V1_GetLevelsResponse.self).levels { byUser[level.userId] = level }
            case .failure(let error):
                throw Forwarder.shardError(error, shard: shards[reply.shard])
            }
        }
        return Self.encode(Retain_V1_GetLevelsResponse(levels: batch.userIds.compactMap { byUser[$0] }))
    }

    /// A paged list merged from every shard's pages (``PagedMerge``), with one page token
    /// holding each shard's position (``ShardCursor``).
    private mutating func list<Input: ProtoMessage, Output: ProtoMessage, Item>(
        _ request: ByteBuffer, _ input: Input.Type, _ output: Output.Type,
        page: WritableKeyPath<Input, Retain_V1_PageRequest?>, items: KeyPath<Output, [Item]>,
        pageInfo: KeyPath<Output, Retain_V1_PageInfo?>, precedes: (Item, Item) -> Bool,
        build: ([Item], Retain_V1_PageInfo, [String]) -> Output
    ) async throws -> ByteBuffer {
        let decoded = try Self.decode(request, input)
        let asked = decoded[keyPath: page] ?? Retain_V1_PageRequest()
        let size = asked.pageSize == 0 ? 50 : Int(asked.pageSize)
        let cursor = try ShardCursor(decoding: asked.pageToken, shards: shards)
        // A shard that is done is still asked for one item of its first page: its total counts.
        var requests: [(shard: Int, request: ByteBuffer)] = []
        for (shard, position) in cursor.positions.enumerated() {
            var part = decoded
            part[keyPath: page] = Retain_V1_PageRequest(pageSize: position == .done ? 1 : asked.pageSize, pageToken: position.token ?? "")
            requests.append((shard, Self.encode(part)))
        }
        let replies = await forwarder.gather(readRoute, path: path, requests: requests, options: options, deadline: deadline)
        var pages: [Int: PagedMerge<Item>.ShardPage] = [:]
        for (shard, answer) in try settle(replies) {
            let message = try Self.decodeAnswer(answer, output)
            let info = message[keyPath: pageInfo] ?? Retain_V1_PageInfo()
            pages[shard] =
                cursor.positions[shard] == .done
                ? .init(items: [], nextPageToken: "", total: info.total)
                : .init(items: message[keyPath: items], nextPageToken: info.nextPageToken, total: info.total)
        }
        var merged = PagedMerge(cursor: cursor, pages: pages, size: size, precedes: precedes)
        if !merged.advances.isEmpty {
            // The token after exactly the items taken: the same page again, that many items long.
            let followUps = merged.advances.map { advance in
                var part = decoded
                part[keyPath: page] = Retain_V1_PageRequest(pageSize: UInt32(advance.count), pageToken: advance.from.token ?? "")
                return (shard: advance.shard, request: Self.encode(part))
            }
            for reply in await forwarder.gather(readRoute, path: path, requests: followUps, options: options, deadline: deadline) {
                switch reply.result {
                case .success(let answer):
                    merged.advance(reply.shard, to: (try Self.decodeAnswer(answer, output))[keyPath: pageInfo]?.nextPageToken ?? "")
                case .failure(let error):
                    throw Forwarder.shardError(error, shard: shards[reply.shard])
                }
            }
        }
        return Self.encode(build(merged.items, Retain_V1_PageInfo(nextPageToken: merged.cursor.encoded, total: merged.total), missing))
    }

    /// GetFaq: every shard's groups (all pages, any ask count) merged, then paged here.
    private mutating func faq(_ request: ByteBuffer) async throws -> ByteBuffer {
        let decoded = try Self.decode(request, Retain_V1_GetFaqRequest.self)
        var groups = [[Retain_V1_FaqEntry]](repeating: [], count: shards.count)
        var tokens: [Int: String] = Dictionary(uniqueKeysWithValues: shards.indices.map { ($0, "") })
        while !tokens.isEmpty {
            let requests = tokens.keys.sorted().map { shard in
                (
                    shard: shard,
                    request: Self.encode(
                        Retain_V1_GetFaqRequest(
                            categories: decoded.categories, minAsks: 0,
                            page: Retain_V1_PageRequest(pageSize: 1000, pageToken: tokens[shard]!)))
                )
            }
            let replies = await forwarder.gather(readRoute, path: path, requests: requests, options: options, deadline: deadline)
            let answered = try settle(replies)
            tokens = [:]
            for (shard, answer) in answered {
                let message = try Self.decodeAnswer(answer, Retain_V1_GetFaqResponse.self)
                groups[shard] += message.entries
                if let next = message.pageInfo?.nextPageToken, !next.isEmpty { tokens[shard] = next }
            }
        }
        var answer = try FaqPage.page(ReportMerge.faq(groups, minAsks: decoded.minAsks), request: decoded)
        answer.missingShards = missing
        return Self.encode(answer)
    }

    /// GetBoardPosition from every shard, merged; every shard is asked once more, for the
    /// users scoring higher than the first row above, when that row's rank needs it.
    private mutating func position(_ asked: Retain_V1_GetBoardPositionRequest, neighbours: Int) async throws -> BoardPositionMerge {
        var part = asked
        let rows = BoardPositionMerge.rowsToAsk(neighbours: neighbours)
        part.neighbours = UInt32(rows)
        let path = Retain_V1_Growth.getBoardPosition.path
        var merge = BoardPositionMerge(
            try await all(Self.encode(part), Retain_V1_GetBoardPositionResponse.self, path: path), score: asked.score,
            neighbours: neighbours, asked: rows)
        if let score = merge.scoreToCount {
            let probe = Retain_V1_GetBoardPositionRequest(
                board: asked.board, atMs: asked.atMs, score: score, reachedAtMs: .min, userId: asked.userId)
            let counts = try await all(Self.encode(probe), Retain_V1_GetBoardPositionResponse.self, path: path)
            merge.rankFirstRowAbove(higher: counts.reduce(0) { $0 + $1.higher })
        }
        return merge
    }

    /// GetRank over several shards: the user's row from its shard, the users around it from
    /// every shard's GetBoardPosition (``BoardPositionMerge``). A weekly board asked for "now"
    /// is asked for the gateway's now, so that every shard counts the same week.
    private mutating func rank(_ request: ByteBuffer) async throws -> ByteBuffer {
        var asked = try Self.decode(request, Retain_V1_GetRankRequest.self)
        var ownRequest = request
        if asked.board == .weekly, asked.atMs == 0 {
            asked.atMs = Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
            ownRequest = Self.encode(asked)
        }
        let user = try forwarder.userID(route, request: ownRequest)
        let own = try Self.decodeAnswer(
            try await forwarder.unary(route, path: path, user: user, request: ownRequest, options: options, deadline: deadline),
            Retain_V1_GetRankResponse.self)
        var key = Retain_V1_GetBoardPositionRequest(board: asked.board, atMs: asked.atMs, userId: asked.userId)
        var neighbours = 0
        if own.rank > 0, let row = own.entries.first(where: { $0.userId == asked.userId }) {
            key.score = row.score
            key.reachedAtMs = row.reachedAtMs
            neighbours = asked.neighbours == 0 ? 2 : Int(asked.neighbours)
        }
        var answer = try await position(key, neighbours: neighbours).rank(own: own, userID: asked.userId)
        answer.missingShards = missing
        return Self.encode(answer)
    }

    static func encode(_ message: some ProtoMessage) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeProtoMessage(message)
        return buffer
    }

    /// The caller's request, decoded; INVALID_ARGUMENT when it does not decode.
    static func decode<Message: ProtoMessage>(_ buffer: ByteBuffer, _ type: Message.Type) throws -> Message {
        do {
            return try buffer.decodeProtoMessage(type)
        } catch {
            throw RPCError(.invalidArgument, "malformed request: \(buffer.readableBytes) bytes do not decode as \(Message.protoName)")
        }
    }

    /// A shard's answer, decoded; INTERNAL when it does not decode.
    static func decodeAnswer<Message: ProtoMessage>(_ buffer: ByteBuffer, _ type: Message.Type) throws -> Message {
        do {
            return try buffer.decodeProtoMessage(type)
        } catch {
            throw RPCError(.internal, "a shard's answer of \(buffer.readableBytes) bytes does not decode as \(Message.protoName)")
        }
    }
}
