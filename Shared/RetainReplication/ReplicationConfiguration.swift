/// How one process takes part in its shard's replication.
public struct ReplicationConfiguration: Sendable {
    /// etcd's client URLs, e.g. `http://127.0.0.1:2379`.
    public var etcdEndpoints: [String]
    /// The cluster's name: every key lives under `/retain/<cluster>/`.
    public var cluster: String
    /// The shard this process holds a copy of, e.g. `ledger-0`.
    public var shard: String
    /// This process's name, unique in the shard.
    public var member: String
    /// Where the shard's other processes reach this one's RPC port (`host:port`).
    public var advertise: String
    /// The full name of the service, e.g. `retain.v1.Ledger`.
    public var service: String
    /// The data directory (the epoch history lives in it).
    public var dataDirectory: String
    /// The leader's lease in etcd, in seconds: a leader that cannot renew it stops acknowledging
    /// writes before it lapses, and another process takes over once it has.
    public var leaseTTLSeconds: Int = 2
    /// How many replicas must hold a record durably before it is committed.
    public var syncReplicas: Int = 1
    /// How many bytes of recent records the leader keeps in memory for its replicas.
    public var windowBytes: Int = 64 << 20
    /// How many records a replica may be sent beyond what it has acknowledged.
    public var maximumInFlightRecords: UInt64 = 65_536
    /// How many bytes the committer may send a replica directly (as each batch is written) beyond
    /// what it has acknowledged; past them the replica is fed at the pace of its flow-control
    /// window until it catches up.
    public var liveFeedBytes: Int = 4 << 20
    /// How often the leader looks whether a replica fed live needs the commit point sent on its
    /// own (it moved past what the last batch carried), and whether the feed fell back. A
    /// replica's reads may lag the commit point by about this much more when no write comes.
    public var liveCommitInterval: Duration = .milliseconds(5)

    public init(
        etcdEndpoints: [String], cluster: String, shard: String, member: String, advertise: String,
        service: String, dataDirectory: String
    ) {
        self.etcdEndpoints = etcdEndpoints
        self.cluster = cluster
        self.shard = shard
        self.member = member
        self.advertise = advertise
        self.service = service
        self.dataDirectory = dataDirectory
    }
}
