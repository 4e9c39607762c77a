public import RetainCluster

/// One shard's keys in etcd, in the layout ``ClusterKeys`` owns (see docs/REPLICATION.md).
public struct ShardKeys: Sendable {
    public let cluster: ClusterKeys
    public let shard: String

    public init(cluster: String, shard: String) {
        self.cluster = ClusterKeys(cluster: cluster)
        self.shard = shard
    }

    /// The leader's record, held with the leader's lease.
    public var leader: String { cluster.leader(shard: shard) }
    /// The last epoch handed out.
    public var epoch: String { cluster.epoch(shard: shard) }
    /// The synchronous set: the replicas whose acknowledgement counts, and so the only ones
    /// that may be promoted.
    public var sync: String { cluster.sync(shard: shard) }
    /// Every member's status lives under this prefix.
    public var membersPrefix: String { cluster.member("", shard: shard) }
    public func member(_ name: String) -> String { cluster.member(name, shard: shard) }
}

extension MemberRecord {
    /// Whether this position is ahead of `other`'s (epoch of the last record first, then its
    /// sequence; ties go to the smaller member name).
    func isAhead(of other: MemberRecord) -> Bool {
        let (epoch, otherEpoch) = (lastEpoch ?? 0, other.lastEpoch ?? 0)
        if epoch != otherEpoch { return epoch > otherEpoch }
        let (sequence, otherSequence) = (lastSequence ?? 0, other.lastSequence ?? 0)
        if sequence != otherSequence { return sequence > otherSequence }
        return member < other.member
    }

    /// Whether it follows no leader (its position is final for an election).
    var settled: Bool { (following ?? "").isEmpty && role != "leader" }
}
