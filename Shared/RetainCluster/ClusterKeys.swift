/// Where a replicated Retain cluster keeps its state in etcd, one directory per shard:
///
/// ```
/// /retain/<cluster>/shards/<shard>/leader            {"member","address","epoch","service","pid"}  (leader's lease)
/// /retain/<cluster>/shards/<shard>/members/<member>  {"member","address","role",...,"lag_ms"}      (member's lease)
/// /retain/<cluster>/shards/<shard>/sync              {"leader","epoch","members":[..],"required"}
/// /retain/<cluster>/shards/<shard>/epoch             "3"
/// ```
///
/// The leader and member keys live only as long as their process's lease; `sync` and `epoch`
/// stay, so a shard whose processes are all down is still known.
public struct ClusterKeys: Sendable, Hashable {
    /// One key of a shard's directory, parsed.
    public enum Key: Sendable, Hashable {
        /// `<shard>/leader`.
        case leader(shard: String)
        /// `<shard>/members/<member>`.
        case member(shard: String, member: String)
        /// `<shard>/sync`.
        case sync(shard: String)
        /// `<shard>/epoch`.
        case epoch(shard: String)

        /// The shard the key belongs to.
        public var shard: String {
            switch self {
            case .leader(let shard), .member(let shard, _), .sync(let shard), .epoch(let shard): shard
            }
        }
    }

    /// The cluster's name (`--cluster`, default `retain`).
    public let cluster: String

    /// The default cluster name.
    public static let defaultCluster = "retain"

    public init(cluster: String = ClusterKeys.defaultCluster) {
        self.cluster = cluster
    }

    /// `/retain/<cluster>/`: every key of the cluster starts with it.
    public var clusterPrefix: String { "/retain/\(cluster)/" }

    /// `/retain/<cluster>/shards/`: every shard key starts with it (range and watch it).
    public var shardsPrefix: String { "/retain/\(cluster)/shards/" }

    /// `/retain/<cluster>/rings/`: a service's ring key (``RingRecord``) starts with it.
    public var ringsPrefix: String { "/retain/\(cluster)/rings/" }

    /// The ring key of `service` (full name, e.g. `retain.v1.Growth`).
    public func ring(service: String) -> String { "\(ringsPrefix)\(service)" }

    /// The key where the resharding driver keeps its progress for `service`.
    public func reshard(service: String) -> String { "/retain/\(cluster)/reshard/\(service)" }

    /// The service whose ring key `key` is, or nil for any other key.
    public func ringService(_ key: String) -> String? {
        guard key.hasPrefix(ringsPrefix) else { return nil }
        let service = key.dropFirst(ringsPrefix.count)
        return service.isEmpty || service.contains("/") ? nil : String(service)
    }

    /// The leader key of `shard`.
    public func leader(shard: String) -> String { "\(shardsPrefix)\(shard)/leader" }

    /// The key of `member` of `shard`.
    public func member(_ member: String, shard: String) -> String { "\(shardsPrefix)\(shard)/members/\(member)" }

    /// The sync key of `shard`.
    public func sync(shard: String) -> String { "\(shardsPrefix)\(shard)/sync" }

    /// The epoch key of `shard`.
    public func epoch(shard: String) -> String { "\(shardsPrefix)\(shard)/epoch" }

    /// The key `key` names under this cluster's prefix, or nil for any other key (another
    /// cluster's, or one this layout does not define).
    public func parse(_ key: String) -> Key? {
        guard key.hasPrefix(shardsPrefix) else { return nil }
        let parts = key.dropFirst(shardsPrefix.count).split(separator: "/", omittingEmptySubsequences: false)
        guard let shard = parts.first, !shard.isEmpty else { return nil }
        switch (parts.count, parts.dropFirst().first) {
        case (2, "leader"): return .leader(shard: String(shard))
        case (2, "sync"): return .sync(shard: String(shard))
        case (2, "epoch"): return .epoch(shard: String(shard))
        case (3, "members") where !parts[2].isEmpty: return .member(shard: String(shard), member: String(parts[2]))
        default: return nil
        }
    }
}
