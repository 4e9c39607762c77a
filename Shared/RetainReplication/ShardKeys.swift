import Foundation

/// Where a shard's facts live in etcd (see docs/REPLICATION.md):
/// `/retain/<cluster>/shards/<shard>/{leader, epoch, sync, members/<member>}`.
public struct ShardKeys: Sendable {
    public let cluster: String
    public let shard: String

    public init(cluster: String, shard: String) {
        self.cluster = cluster
        self.shard = shard
    }

    /// Every shard of the cluster lives under this prefix.
    public static func clusterPrefix(_ cluster: String) -> String { "/retain/\(cluster)/shards/" }

    public var prefix: String { Self.clusterPrefix(cluster) + shard + "/" }
    /// The leader's record, held with the leader's lease.
    public var leader: String { prefix + "leader" }
    /// The last epoch handed out (a decimal number).
    public var epoch: String { prefix + "epoch" }
    /// The synchronous set: the replicas whose acknowledgement counts, and so the only ones
    /// that may be promoted.
    public var sync: String { prefix + "sync" }
    /// Every member's status lives under this prefix.
    public var membersPrefix: String { prefix + "members/" }
    public func member(_ name: String) -> String { membersPrefix + name }
}

/// The value of the leader key.
public struct LeaderRecord: Codable, Sendable, Equatable {
    public var member: String
    public var address: String
    public var epoch: UInt64
    public var service: String
    public var pid: Int32
}

/// The value of the sync key.
public struct SyncRecord: Codable, Sendable, Equatable {
    /// The leader that wrote it.
    public var leader: String
    public var epoch: UInt64
    /// The replicas whose acknowledgements count toward commits.
    public var members: [String]
    /// How many of them must acknowledge a record before it is committed.
    public var required: Int
}

/// The value of a member key: what the process is and how far its log goes.
public struct MemberRecord: Codable, Sendable, Equatable {
    public var member: String
    public var address: String
    public var service: String
    /// `leader`, `replica` or `candidate`.
    public var role: String
    /// The epoch it leads or follows.
    public var epoch: UInt64
    /// The epoch of its last record, and that record's sequence: the position elections compare.
    public var lastEpoch: UInt64
    public var lastSequence: UInt64
    public var durableSequence: UInt64
    public var committedSequence: UInt64
    /// The leader it follows (member name), empty when it follows none: a replica clears it when
    /// the leader's key goes, so that its position is final for the election.
    public var following: String
    public var lagRecords: UInt64
    public var lagMs: Int64
    public var pid: Int32
    public var dataDir: String
    public var updatedUnixMs: Int64

    enum CodingKeys: String, CodingKey {
        case member, address, service, role, epoch, following, pid
        case lastEpoch = "last_epoch", lastSequence = "last_sequence", durableSequence = "durable_sequence"
        case committedSequence = "committed_sequence", lagRecords = "lag_records", lagMs = "lag_ms"
        case dataDir = "data_dir", updatedUnixMs = "updated_unix_ms"
    }

    /// Whether this position is ahead of `other`'s (epoch of the last record first, then its
    /// sequence; ties go to the smaller member name).
    public func isAhead(of other: MemberRecord) -> Bool {
        if lastEpoch != other.lastEpoch { return lastEpoch > other.lastEpoch }
        if lastSequence != other.lastSequence { return lastSequence > other.lastSequence }
        return member < other.member
    }
}

enum ShardJSON {
    static func encode<T: Encodable>(_ value: T) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? [UInt8](encoder.encode(value))) ?? []
    }

    static func decode<T: Decodable>(_ type: T.Type, _ bytes: [UInt8]) -> T? {
        try? JSONDecoder().decode(type, from: Data(bytes))
    }
}
