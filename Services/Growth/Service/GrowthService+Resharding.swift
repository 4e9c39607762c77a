import GrowthCore
import RetainProto
import RetainRPC
import RetainServiceKit
import RetainState
import RetainWire

/// `retain.v1.Resharding` on a Growth shard: the shard's side of moving users to another shard
/// (docs/CLUSTER.md). Records are ``Retain_V1_GrowthUserRecord``s; every change is a
/// ``Retain_V1_GrowthUsersMoved`` log entry, answered once durable.
extension GrowthService {
    /// Users one call may list, export, import, fence or drop.
    static let maximumMovedUsers = 10_000

    /// Registers the Resharding methods.
    func resharding(into router: inout RPCRouter) {
        let store = store
        router.unaryGated(Retain_V1_Resharding.listShardUsers) { request, _ in
            let limit = try GrowthRequestValidation.count(
                request.limit, field: "limit", default: 1000, range: 1...Self.maximumMovedUsers)
            return try store.readForAnswer { state in
                let ids = state.userIDs
                var low = 0
                var high = ids.count
                while low < high {
                    let middle = (low + high) / 2
                    if ids[middle] <= request.afterUserId { low = middle + 1 } else { high = middle }
                }
                let page = Array(ids[low..<min(low + limit, ids.count)])
                return Retain_V1_ListShardUsersResponse(
                    userIds: page, nextAfterUserId: low + limit < ids.count ? page.last ?? "" : "",
                    fencedCount: UInt64(state.fenced.count))
            }
        }

        router.unaryGated(Retain_V1_Resharding.exportUsers) { request, _ in
            try Self.requireMovedCount(request.userIds.count)
            return try store.readForAnswer { state in
                Retain_V1_ExportUsersResponse(
                    users: request.userIds.compactMap { id in
                        state.userRecord(id).map {
                            Retain_V1_MovedUser(userId: id, record: ProtoCodec.encode($0), checksum: GrowthState.checksum($0))
                        }
                    })
            }
        }

        router.write(Retain_V1_Resharding.importUsers, to: store) { request, _, transaction in
            try Self.requireMovedCount(request.users.count)
            let records = try request.users.enumerated().map { index, user in
                let record: Retain_V1_GrowthUserRecord
                do {
                    record = try ProtoCodec.decode(Retain_V1_GrowthUserRecord.self, from: user.record)
                } catch {
                    throw RPCError.invalidArgument(field: "users[\(index)].record", "does not decode as a GrowthUserRecord: \(error)")
                }
                guard record.userId == user.userId, !user.userId.isEmpty else {
                    throw RPCError.invalidArgument(field: "users[\(index)].record", "holds user '\(record.userId)', not '\(user.userId)'")
                }
                return record
            }
            try GrowthError.mapped {
                try transaction.log(Retain_V1_GrowthLogEntry(usersMoved: .init(imported: records, ringVersion: request.ringVersion)))
            }
            return Retain_V1_ImportUsersResponse(imported: UInt32(records.count))
        }

        router.write(Retain_V1_Resharding.fenceUsers, to: store) { request, _, transaction in
            try Self.requireMovedCount(request.userIds.count)
            let change =
                request.lift
                ? Retain_V1_GrowthUsersMoved(unfenced: request.userIds)
                : Retain_V1_GrowthUsersMoved(fenced: request.userIds, ringVersion: request.ringVersion)
            try GrowthError.mapped { try transaction.log(Retain_V1_GrowthLogEntry(usersMoved: change)) }
            return Retain_V1_FenceUsersResponse(fencedCount: UInt64(transaction.state.fenced.count))
        }

        router.write(Retain_V1_Resharding.dropUsers, to: store) { request, _, transaction in
            try Self.requireMovedCount(request.userIds.count)
            let held = request.userIds.filter { transaction.state.userRecord($0) != nil }
            try GrowthError.mapped { try transaction.log(Retain_V1_GrowthLogEntry(usersMoved: .init(dropped: request.userIds))) }
            return Retain_V1_DropUsersResponse(dropped: UInt32(held.count))
        }
    }

    private static func requireMovedCount(_ count: Int) throws {
        guard count <= maximumMovedUsers else {
            throw RPCError.invalidArgument(field: "user_ids", "\(count) users, at most \(maximumMovedUsers) a call")
        }
    }
}
