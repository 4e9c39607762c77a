import GatewayCore
import NIOCore
import RetainProto
import RetainRPC
import RetainWire

/// The services as a saved segment's evaluation sees them (``SavedSegmentSource``): each call
/// routed by the forwarder within one gateway call's deadline, with the gateway's own token
/// (read scopes) like the flows' steps. Profile is asked shard by shard; Growth batches are
/// split by each user's owning shard; the Ledger is one instance.
struct SavedSegmentBackend: SavedSegmentSource {
    let forwarder: Forwarder
    let deadline: ContinuousClock.Instant
    let options: CallOptions

    var profileShards: [String] {
        (try? forwarder.route(Retain_V1_Profile.matchSegmentRule.path, request: ByteBuffer()))?.backends.backends.map(\.id) ?? []
    }

    func definition(_ name: String) async throws -> Retain_V1_SavedSegment {
        let answer = try await call(Retain_V1_Profile.getSavedSegment, Retain_V1_GetSavedSegmentRequest(name: name))
        guard let segment = answer.segment else { throw RPCError(.internal, "GetSavedSegment answered no segment") }
        return segment
    }

    func match(shard: Int, _ request: Retain_V1_MatchSegmentRuleRequest) async throws -> Retain_V1_MatchSegmentRuleResponse {
        let route = try readRoute(Retain_V1_Profile.matchSegmentRule.path)
        let replies = await forwarder.gather(
            route, path: Retain_V1_Profile.matchSegmentRule.path, requests: [(shard, Scatter.encode(request))], options: options,
            deadline: deadline)
        switch replies[0].result {
        case .success(let answer):
            return try Scatter.decodeAnswer(answer, Retain_V1_MatchSegmentRuleResponse.self)
        case .failure(let error):
            throw Forwarder.shardError(error, shard: route.backends.backends[shard].id)
        }
    }

    func levels(_ userIDs: [String], asOf: Int64) async throws -> [Retain_V1_UserLevel] {
        // Split by each user's owning Growth shard (ScatterRule.levelBatch).
        try await call(Retain_V1_Growth.getLevels, Retain_V1_GetLevelsRequest(userIds: userIDs, asOfMs: asOf)).levels
    }

    func balances(_ userIDs: [String], asset: String, asOf: Int64) async throws -> [Retain_V1_UserBalance] {
        try await call(Retain_V1_Ledger.getBalances, Retain_V1_GetBalancesRequest(userIds: userIDs, asset: asset, asOfMs: asOf))
            .balances
    }

    private func readRoute(_ path: String) throws -> Forwarder.Route {
        let route: Forwarder.Route
        do {
            route = try forwarder.route(path, request: ByteBuffer())
        } catch {
            throw RPCError(.unavailable, "no backend for \(path) in the gateway's topology", details: ["not_processed": "true"])
        }
        return Forwarder.Route(backends: route.backends, input: route.input, userKeyed: false, streaming: false, idempotent: true)
    }

    private func call<Input: ProtoMessage, Output: ProtoMessage>(
        _ method: RPCMethod<Input, Output>, _ request: Input
    ) async throws -> Output {
        let answer = try await forwarder.answer(
            readRoute(method.path), path: method.path, request: Scatter.encode(request), options: options, deadline: deadline)
        return try Scatter.decodeAnswer(answer, Output.self)
    }
}

extension SavedSegmentError {
    /// The status this error answers with.
    var status: RPCError {
        switch self {
        case .invalid(let field, let reason): RPCError.invalidArgument(field: field, reason)
        case .definitionChanged(let message): RPCError(.failedPrecondition, message)
        }
    }

    /// Runs `body`, turning the evaluation's errors into statuses; other errors pass.
    static func mapped<R>(_ body: () async throws -> R) async throws -> R {
        do {
            return try await body()
        } catch let error as SavedSegmentError {
            throw error.status
        }
    }
}
