import RetainCluster
import RetainProto
import RetainRPC
import RetainWire

/// The calls of one group of a reshard (``ReshardPlan``) to the shards: from ring `from` to
/// ring `to`, the users of `from`'s instances that `to` places elsewhere move.
struct ReshardDriver {
    let from: RingRecord
    let to: RingRecord
    let batch: Int
    let clients: [String: RPCClient]
    let newRing: HashRing
    let oldRing: HashRing
    /// What this run sent: calls to the shards and bytes of user records copied.
    let tally: Tally

    /// Counts calls and copied bytes (the cost of a reshard, printed at the end).
    final class Tally: @unchecked Sendable {
        var calls = 0
        var copiedBytes = 0
        var copiedUsers = 0
    }

    /// One call to a shard, counted.
    func call<Request, Response>(_ shard: String, _ method: RPCMethod<Request, Response>, _ request: Request) async throws -> Response {
        tally.calls += 1
        guard let client = clients[shard] else { throw ReshardError("no connection to shard \(shard)") }
        return try await client.unary(method, request)
    }

    /// The clients of every instance of `instances` (by id).
    static func clients(_ instances: [RingRecord.Instance], credential: AuthorizationOption) -> [String: RPCClient] {
        var clients: [String: RPCClient] = [:]
        for instance in instances {
            let parts = instance.address.split(separator: ":")
            clients[instance.id] = RPCClient(
                host: String(parts.dropLast().joined(separator: ":")), port: Int(parts.last ?? "") ?? 0,
                configuration: credential.clientConfiguration)
        }
        return clients
    }

    init(from: RingRecord, to: RingRecord, batch: Int, clients: [String: RPCClient], tally: Tally) {
        self.from = from
        self.to = to
        self.batch = batch
        self.clients = clients
        self.tally = tally
        newRing = to.hashRing(virtualNodes: ReshardPlan.ringPoints)
        oldRing = from.hashRing(virtualNodes: ReshardPlan.ringPoints)
    }

    /// `to` as ListShardUsers' filter.
    var ringFilter: [Retain_V1_RingInstance] {
        to.instances.map { Retain_V1_RingInstance(id: $0.id, points: UInt32($0.points ?? 0)) }
    }

    /// How many users each source holds that `to` places elsewhere (one call per source).
    func movingCount() async throws -> Int {
        var count = 0
        for source in from.instances {
            count += Int(
                try await call(
                    source.id, Retain_V1_Resharding.listShardUsers,
                    .init(limit: 1, movingBy: ringFilter, shardId: source.id)
                ).total)
        }
        return count
    }

    /// The users each source serves on `from` that `to` places on another shard, by source
    /// (each source filters its own users; a copy a source holds of a user `from` places
    /// elsewhere, left by an abandoned move, is not its to give). `unfencedOnly`: only those
    /// not fenced there yet.
    func movingUsers(unfencedOnly: Bool = false) async throws -> [String: [String]] {
        var moving: [String: [String]] = [:]
        for (index, source) in from.instances.enumerated() {
            var after = ""
            repeat {
                let page = try await call(
                    source.id, Retain_V1_Resharding.listShardUsers,
                    .init(
                        afterUserId: after, limit: UInt32(ReshardingListing.pageSize), unfencedOnly: unfencedOnly,
                        movingBy: ringFilter, shardId: source.id))
                moving[source.id, default: []] += page.userIds.filter { oldRing.owner(of: $0) == index }
                after = page.nextAfterUserId
            } while !after.isEmpty
        }
        return moving
    }

    func owner(_ user: String) -> String { to.instances[newRing.owner(of: user) ?? 0].id }

    /// Copies the users whose checksum differs on their new shard; returns how many.
    func copy(_ moving: [String: [String]]) async throws -> Int {
        try await copy(moving) { known, user in known[user.userId] != user.checksum }
    }

    /// Copies users their new shard does not hold (created at a source during the move,
    /// fenced there since); one it holds already with other state was written on both
    /// shards: stops, naming it, rather than replace what the new shard was written since.
    func copyAbsent(_ moving: [String: [String]]) async throws -> Int {
        try await copy(moving) { known, user in
            if let theirs = known[user.userId], theirs != user.checksum {
                throw ReshardError(
                    "user '\(user.userId)' was written at its source and at its new shard during the move: not copied, not dropped")
            }
            return known[user.userId] == nil
        }
    }

    /// Copies the users `copies` selects from what their new shard holds (checksums by user).
    private func copy(
        _ moving: [String: [String]], where copies: ([String: UInt64], Retain_V1_MovedUser) throws -> Bool
    ) async throws -> Int {
        var copied = 0
        for (source, page) in batches(moving) {
            let ours = try await call(source, Retain_V1_Resharding.exportUsers, .init(userIds: page)).users
            for (target, group) in Dictionary(grouping: ours, by: { owner($0.userId) }) {
                let theirs = try await call(
                    target, Retain_V1_Resharding.exportUsers, .init(userIds: group.map(\.userId))
                ).users
                let known = Dictionary(uniqueKeysWithValues: theirs.map { ($0.userId, $0.checksum) })
                let selected = try group.filter { try copies(known, $0) }
                guard !selected.isEmpty else { continue }
                tally.copiedUsers += selected.count
                tally.copiedBytes += selected.map(\.record.count).reduce(0, +)
                _ = try await call(
                    target, Retain_V1_Resharding.importUsers, .init(users: selected, ringVersion: UInt64(to.version)))
                copied += selected.count
            }
        }
        return copied
    }

    func fence(_ moving: [String: [String]], lift: Bool) async throws {
        for (source, page) in batches(moving) {
            _ = try await call(
                source, Retain_V1_Resharding.fenceUsers, .init(userIds: page, lift: lift, ringVersion: UInt64(to.version)))
        }
    }

    /// Removes the copies an abandoned group made at the users' new shards (`moving` by source;
    /// each new shard discards those it holds).
    func discardCopies(_ moving: [String: [String]]) async throws {
        for (target, page) in batches(Dictionary(grouping: moving.values.joined(), by: owner)) {
            _ = try await call(
                target, Retain_V1_Resharding.dropUsers, .init(userIds: page, discard: true, ringVersion: UInt64(to.version)))
        }
    }

    func drop(_ moving: [String: [String]]) async throws -> Int {
        var dropped = 0
        for (source, page) in batches(moving) {
            dropped += Int(try await call(source, Retain_V1_Resharding.dropUsers, .init(userIds: page)).dropped)
        }
        return dropped
    }

    /// The users of each shard in calls of at most `batch`, shard by shard.
    private func batches(_ users: [String: [String]]) -> [(shard: String, page: [String])] {
        users.flatMap { shard, users in
            stride(from: 0, to: users.count, by: batch).map { (shard, Array(users[$0..<min($0 + batch, users.count)])) }
        }
    }
}

/// How the driver pages through a shard's users.
enum ReshardingListing {
    /// Users per ListShardUsers page (the most a page may hold: each page is one pass over
    /// the shard's users).
    static let pageSize = 10_000
}

/// Why a reshard stopped; it can be run again (or abandoned before the switch).
struct ReshardError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
