public import RetainCluster

/// Which instances make up each service's hash ring and where each is reached now: the
/// topology file's instances joined with the shards of a replicated cluster and their current
/// leaders, as etcd names them (``ClusterState``).
///
/// - A service the topology lists keeps exactly the topology's instances on its ring; an
///   instance whose id is a shard's name (`ledger-0`) is reached at that shard's leader once
///   etcd has named the shard, and at the topology's address before.
/// - A service the topology does not list gets one ring instance per shard that etcd names for
///   it (its id the shard's name), reached at the shard's leader.
/// - A service with a ring key in etcd (``RingRecord``, written by online resharding) is routed
///   by that ring: its instances in its order, reached at the record's address or, for a shard
///   etcd names, at its leader. A new ring version moves the users it moves at once.
/// - A shard stays on its ring once seen, with no address while it has no leader (and even if
///   all its keys go): users stay with their shard while its leader moves or its processes
///   restart, instead of moving to another shard that does not hold their state.
public struct ShardDirectory: Sendable, Hashable {
    /// One service's ring.
    public struct Ring: Sendable, Hashable {
        /// Full service name, e.g. `retain.v1.Ledger`.
        public var service: String
        /// The ring's instance ids: the topology's, in its order, or the shards' names, sorted.
        public var instanceIDs: [String]
        /// Methods safe to retry without an idempotency key (from the topology).
        public var idempotentMethods: Set<String>
        /// Whether user-keyed calls may move on while the owner is out (from the topology).
        public var userFailover: Bool
        /// Where each instance is reached now, by id; an id without an entry has no leader.
        public var addresses: [String: Topology.Instance]
        /// The epoch of each followed instance's current leader, by id.
        public var epochs: [String: Int64]
        /// The ids whose address etcd names (shards): a call they refuse as "not leader" waits
        /// for the next leader.
        public var followed: Set<String>
        /// The version of the ring key the ring comes from (resharding); nil for a ring from the
        /// topology or the shards. The gateway sends it with every call (`ring-version`).
        public var ringVersion: Int64? = nil
        /// Instances holding only some of their points (a resharding adding them in groups),
        /// by id; the others hold all.
        public var points: [String: Int] = [:]
    }

    /// Rings by full service name.
    public private(set) var rings: [String: Ring] = [:]
    /// The topology the rings start from.
    public let topology: Topology
    /// Every shard seen in etcd, with the service it serves (last word wins).
    private var shardServices: [String: String] = [:]

    /// The directory of `topology` alone (no shard seen yet).
    public init(topology: Topology) {
        self.topology = topology
        rebuild(from: nil)
    }

    /// Takes in what `state` says; returns whether any ring or address changed.
    @discardableResult
    public mutating func update(from state: ClusterState) -> Bool {
        for shard in state.shards.values {
            if let service = shard.service { shardServices[shard.name] = service }
        }
        let before = rings
        rebuild(from: state)
        return rings != before
    }

    private mutating func rebuild(from state: ClusterState?) {
        var rings: [String: Ring] = [:]
        for service in topology.services.values {
            var ring = Ring(
                service: service.name, instanceIDs: service.instances.map(\.id),
                idempotentMethods: service.idempotentMethods, userFailover: service.userFailover,
                addresses: [:], epochs: [:], followed: [])
            for instance in service.instances {
                if shardServices[instance.id] != nil {
                    ring.followed.insert(instance.id)
                    ring.addresses[instance.id] = leaderAddress(of: instance.id, in: state)
                    ring.epochs[instance.id] = state?.shards[instance.id]?.leader?.epoch
                } else {
                    ring.addresses[instance.id] = instance
                }
            }
            rings[service.name] = ring
        }
        for (shard, service) in shardServices where topology.services[service] == nil {
            var ring =
                rings[service]
                ?? Ring(
                    service: service, instanceIDs: [], idempotentMethods: [], userFailover: false,
                    addresses: [:], epochs: [:], followed: [])
            ring.instanceIDs.append(shard)
            ring.followed.insert(shard)
            ring.addresses[shard] = leaderAddress(of: shard, in: state)
            ring.epochs[shard] = state?.shards[shard]?.leader?.epoch
            rings[service] = ring
        }
        for name in rings.keys where topology.services[name] == nil { rings[name]!.instanceIDs.sort() }
        // A ring written by resharding (a ring key in etcd) replaces the service's ring: its
        // instances, in its order; a shard etcd names is reached at its leader.
        for (service, record) in state?.rings ?? [:] where service != Topology.oneWriterService && !record.instances.isEmpty {
            let configured = topology.services[service]
            var ring = Ring(
                service: service, instanceIDs: record.instances.map(\.id),
                idempotentMethods: configured?.idempotentMethods ?? [], userFailover: configured?.userFailover ?? false,
                addresses: [:], epochs: [:], followed: [], ringVersion: record.version, points: record.partialPoints)
            for instance in record.instances {
                if shardServices[instance.id] != nil {
                    ring.followed.insert(instance.id)
                    ring.addresses[instance.id] = leaderAddress(of: instance.id, in: state)
                    ring.epochs[instance.id] = state?.shards[instance.id]?.leader?.epoch
                } else if let address = try? Topology.parseAddress(instance.address, path: "") {
                    ring.addresses[instance.id] = Topology.Instance(id: instance.id, host: address.0, port: address.1)
                }
            }
            rings[service] = ring
        }
        // The ledger is one writer (docs/CLUSTER.md): a second ledger shard in etcd is never
        // routed to; the first by name keeps the ring.
        if var ledger = rings[Topology.oneWriterService], topology.services[Topology.oneWriterService] == nil, ledger.instanceIDs.count > 1
        {
            let kept = ledger.instanceIDs[0]
            ledger.instanceIDs = [kept]
            ledger.followed = ledger.followed.intersection([kept])
            ledger.addresses = ledger.addresses.filter { $0.key == kept }
            ledger.epochs = ledger.epochs.filter { $0.key == kept }
            rings[Topology.oneWriterService] = ledger
        }
        self.rings = rings
    }

    /// The leader's address of `shard`, with the shard's name as id; nil without a leader or
    /// with an address that is not `host:port`.
    private func leaderAddress(of shard: String, in state: ClusterState?) -> Topology.Instance? {
        guard let leader = state?.shards[shard]?.leader,
            let address = try? Topology.parseAddress(leader.address, path: "")
        else { return nil }
        return Topology.Instance(id: shard, host: address.0, port: address.1)
    }
}
