import GatewayCore
import NIOCore
import RetainProto
import RetainRPC
import RetainWire

/// Calls that are not about one user, with several shards: sent to every shard (its leader, as
/// every forwarded call) in parallel and answered by the merge rule of the method
/// (``ScatterRule``, merges in ``ReportMerge``). A shard that does not answer fails the call
/// with its status, naming the shard (`details["shard"]`); with the call metadata
/// `partial-results: allow` the other shards' merged answer comes back instead, listing the
/// missing shards. docs/CLUSTER.md says the rule of every method.
extension Forwarder {
    /// The call metadata key by which a caller accepts a partial answer, and its value.
    static let partialResultsKey = "partial-results"

    /// A shard's reply to one part of a scattered call.
    struct ShardReply<Output: Sendable>: Sendable {
        let shard: Int
        let result: Result<Output, RPCError>
    }

    /// Answers a unary call: to one instance, or by the method's ``ScatterRule`` when the
    /// service has several shards and the call is not about one user (or, GetRank, needs every
    /// shard's users).
    func answer(
        _ route: Route, path: String, request: ByteBuffer, options: CallOptions,
        deadline: ContinuousClock.Instant
    ) async throws -> ByteBuffer {
        guard route.backends.backends.count > 1, let rule = ScatterRule.rule(for: path), !route.userKeyed || rule == .rank else {
            let user = try userID(route, request: request)
            return try await unary(route, path: path, user: user, request: request, options: options, deadline: deadline)
        }
        let partial = options.metadata[Self.partialResultsKey] == "allow"
        var scatter = Scatter(forwarder: self, route: route, path: path, options: options, deadline: deadline, partial: partial)
        do {
            return try await scatter.answer(rule, request: request)
        } catch let error as ShardMergeError {
            switch error {
            case .invalidPageToken(let reason): throw RPCError.invalidArgument(field: "page.page_token", reason)
            case .invalidPageSize(let reason): throw RPCError.invalidArgument(field: "page.page_size", reason)
            }
        }
    }

    /// Refuses a stream whose positions belong to one shard when the service has several.
    func refuseOneShardStream(_ route: Route, path: String) throws(RPCError) {
        guard route.backends.backends.count > 1, ScatterRule.rule(for: path) == .oneShardStream else { return }
        throw RPCError(
            .failedPrecondition,
            "\(path) streams one shard's positions and \(route.backends.name) has \(route.backends.backends.count) shards: follow each shard's leader directly"
        )
    }

    /// Sends `requests` (by shard index) in parallel, each to its shard only; the replies in
    /// shard order.
    func gather(
        _ route: Route, path: String, requests: [(shard: Int, request: ByteBuffer)], options: CallOptions,
        deadline: ContinuousClock.Instant
    ) async -> [ShardReply<ByteBuffer>] {
        let backends = route.backends.backends
        let replies = await withTaskGroup(of: ShardReply<ByteBuffer>.self) { group in
            for (shard, request) in requests {
                group.addTask {
                    do {
                        let answer = try await self.unary(
                            route, path: path, candidates: [backends[shard]], request: request,
                            options: options, deadline: deadline)
                        return ShardReply(shard: shard, result: .success(answer))
                    } catch let error as RPCError {
                        return ShardReply(shard: shard, result: .failure(error))
                    } catch {
                        return ShardReply(shard: shard, result: .failure(RPCError(.internal, "\(error)")))
                    }
                }
            }
            var replies: [ShardReply<ByteBuffer>] = []
            for await reply in group { replies.append(reply) }
            return replies
        }
        return replies.sorted { $0.shard < $1.shard }
    }

    /// `error` from `shard`, naming it: the same code, the message prefixed with the shard,
    /// `details["shard"]` set.
    static func shardError(_ error: RPCError, shard: String) -> RPCError {
        var details = error.details
        details["shard"] = shard
        return RPCError(error.code, "shard '\(shard)': \(error.message)", details: details)
    }
}
