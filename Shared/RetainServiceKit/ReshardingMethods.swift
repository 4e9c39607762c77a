import RetainCluster
import RetainProto
public import RetainMoves
public import RetainRPC
public import RetainState
public import RetainWire

/// The retain.v1.Resharding methods a shard serves, the same for every service whose users move
/// (docs/CLUSTER.md): the service's state says what a user's record is (``MovableUsers``), and
/// `entry` wraps a change into the service's own log entry; fences, copies and drops are logged
/// through the state's one write path and answered once durable. Admin-only (RetainAuth's
/// MethodAccessTable).
public struct ReshardingMethods<State: PersistentState & MovableUsers>: Sendable {
    /// Users one call may list, export, import, fence or drop.
    public static var maximumUsers: Int { 10_000 }

    let store: StateStore<State>
    let entry: @Sendable (UserMoves<State.MovedRecord>) -> State.LogEntry

    /// The methods over `store`, logging each change as `entry` makes it.
    public init(store: StateStore<State>, entry: @escaping @Sendable (UserMoves<State.MovedRecord>) -> State.LogEntry) {
        self.store = store
        self.entry = entry
    }

    /// Registers the five methods on `router`.
    public func register(on router: inout RPCRouter) {
        let store = store
        let entry = entry
        // Runs as a task: only the ids are taken under the state's lock; the ring filter (a
        // hash per user) and the sort run outside it, so the shard keeps serving meanwhile.
        router.unaryAsync(Retain_V1_Resharding.listShardUsers) { request, context in
            let limit = request.limit == 0 ? 1000 : Int(request.limit)
            guard limit <= Self.maximumUsers else {
                throw RPCError.invalidArgument(field: "limit", "\(request.limit) is out of range: 1 to \(Self.maximumUsers)")
            }
            let leaving = try Self.leavingFilter(request)
            var (ids, fencedCount) = try await store.readDurably(for: context) { state in
                var ids = state.unorderedMovableUserIDs
                if request.unfencedOnly { ids.removeAll { state.fences.contains($0) } }
                return (ids, state.fences.fenced.count)
            }
            if let leaving { ids.removeAll { !leaving($0) } }
            ids.sort()
            var low = 0
            var high = ids.count
            while low < high {
                let middle = (low + high) / 2
                if ids[middle] <= request.afterUserId { low = middle + 1 } else { high = middle }
            }
            let page = Array(ids[low..<min(low + limit, ids.count)])
            return Retain_V1_ListShardUsersResponse(
                userIds: page, nextAfterUserId: low + limit < ids.count ? page.last ?? "" : "",
                fencedCount: UInt64(fencedCount), total: UInt64(ids.count))
        }

        router.read(Retain_V1_Resharding.exportUsers, from: store) { request, _, state in
            try Self.requireCount(request.userIds.count)
            return Retain_V1_ExportUsersResponse(users: state.exportedUsers(request.userIds))
        }

        router.write(Retain_V1_Resharding.importUsers, to: store) { request, _, transaction in
            try Self.requireCount(request.users.count, field: "users")
            let records = try request.users.enumerated().map { index, user in
                let record: State.MovedRecord
                do {
                    record = try ProtoCodec.decode(State.MovedRecord.self, from: user.record)
                } catch {
                    throw RPCError.invalidArgument(
                        field: "users[\(index)].record", "does not decode as the service's user record: \(error)")
                }
                guard !user.userId.isEmpty, State.userID(of: record) == user.userId else {
                    throw RPCError.invalidArgument(
                        field: "users[\(index)].record", "holds user '\(State.userID(of: record))', not '\(user.userId)'")
                }
                return record
            }
            try UserMoveError.mapped { try transaction.log(entry(UserMoves(imported: records, ringVersion: request.ringVersion))) }
            return Retain_V1_ImportUsersResponse(imported: UInt32(records.count))
        }

        router.write(Retain_V1_Resharding.fenceUsers, to: store) { request, _, transaction in
            try Self.requireCount(request.userIds.count)
            let change =
                request.lift
                ? UserMoves<State.MovedRecord>(unfenced: request.userIds, ringVersion: request.ringVersion)
                : UserMoves<State.MovedRecord>(fenced: request.userIds, ringVersion: request.ringVersion)
            try UserMoveError.mapped { try transaction.log(entry(change)) }
            return Retain_V1_FenceUsersResponse(fencedCount: UInt64(transaction.state.fences.fenced.count))
        }

        router.write(Retain_V1_Resharding.dropUsers, to: store) { request, _, transaction in
            try Self.requireCount(request.userIds.count)
            let held = request.userIds.filter { transaction.state.holdsUser($0) }
            let change =
                request.discard
                ? UserMoves<State.MovedRecord>(ringVersion: request.ringVersion, discarded: request.userIds)
                : UserMoves<State.MovedRecord>(dropped: request.userIds)
            try UserMoveError.mapped { try transaction.log(entry(change)) }
            return Retain_V1_DropUsersResponse(dropped: UInt32(held.count))
        }
    }

    /// Whether the ring of `moving_by` places a user on another instance than `shard_id`; nil
    /// when the request names no ring.
    static func leavingFilter(_ request: Retain_V1_ListShardUsersRequest) throws(RPCError) -> (@Sendable (String) -> Bool)? {
        guard !request.movingBy.isEmpty else { return nil }
        guard !request.shardId.isEmpty else { throw RPCError.invalidArgument(field: "shard_id", "is required with moving_by") }
        var points: [String: Int] = [:]
        for (index, instance) in request.movingBy.enumerated() {
            guard !instance.id.isEmpty, points[instance.id] == nil else {
                throw RPCError.invalidArgument(
                    field: "moving_by[\(index)].id", instance.id.isEmpty ? "is empty" : "'\(instance.id)' is named twice")
            }
            guard instance.points <= Self.ringPoints else {
                throw RPCError.invalidArgument(
                    field: "moving_by[\(index)].points", "\(instance.points) is out of range: 0 (all) to \(Self.ringPoints)")
            }
            points[instance.id] = instance.points == 0 ? Self.ringPoints : Int(instance.points)
        }
        let ids = request.movingBy.map(\.id)
        // A shard the ring leaves out gives every user away.
        guard let own = ids.firstIndex(of: request.shardId) else { return { _ in true } }
        let ring = HashRing(instanceIDs: ids, virtualNodes: Self.ringPoints, points: points)
        return { ring.owner(of: $0) != own }
    }

    /// Points per instance on every ring (the gateways' and the driver's).
    static var ringPoints: Int { 128 }

    private static func requireCount(_ count: Int, field: String = "user_ids") throws {
        guard count <= maximumUsers else {
            throw RPCError.invalidArgument(field: field, "\(count) users, at most \(maximumUsers) a call")
        }
    }
}

extension UserMoveError {
    /// The status this error answers with: a moved user and a report for the wrong ring are
    /// UNAVAILABLE with `not_processed` (the gateway sends the call again; `moved` says the
    /// user's shard changes), a forbidden change FAILED_PRECONDITION.
    public var status: RPCError {
        switch self {
        case .moved: RPCError(.unavailable, description, details: ["not_processed": "true", "moved": "true"])
        case .ringVersion: RPCError(.unavailable, description, details: ["not_processed": "true"])
        case .refused: RPCError(.failedPrecondition, description)
        case .malformed: RPCError(.internal, description)
        }
    }

    /// Runs `body`, turning a move error it throws into its status; other errors pass.
    @discardableResult
    public static func mapped<R>(_ body: () throws -> R) throws -> R {
        do {
            return try body()
        } catch let error as UserMoveError {
            throw error.status
        }
    }
}

extension ServerContext {
    /// The ring version a report was asked for (call metadata `ring-version`, sent by a gateway
    /// routing by a ring in etcd); 0 when absent or not a number.
    public var ringVersion: UInt64 { metadata("ring-version").flatMap { UInt64($0) } ?? 0 }
}
