public import Foundation

/// What etcd says about a cluster's shards, folded from its keys: the read side of
/// ``ClusterKeys``, kept current by applying each put and delete of a watch in order. Plain
/// values, no I/O: the gateway follows leaders with it and `retain cluster status` prints it.
public struct ClusterState: Sendable, Hashable {
    /// One shard: its leader, its members' reports, its sync set and epoch.
    public struct Shard: Sendable, Hashable {
        /// The shard's name, e.g. `ledger-0`.
        public var name: String
        /// The leader key's value; nil while no member leads.
        public var leader: LeaderRecord?
        /// Live members by name (a member's key lapses with its lease).
        public var members: [String: MemberRecord] = [:]
        /// The sync key's value.
        public var sync: SyncRecord?
        /// The epoch key's value.
        public var epoch: Int64?

        public init(name: String) {
            self.name = name
        }

        /// The full service name the shard serves: the leader's word, else a member's, else
        /// read from a shard name of the default form `<service>-<n>` (`ledger-0` ->
        /// `retain.v1.Ledger`); nil when none says.
        public var service: String? {
            if let leader, !leader.service.isEmpty { return leader.service }
            if let member = members.keys.sorted().lazy.compactMap({ self.members[$0] }).first(where: { !$0.service.isEmpty }) {
                return member.service
            }
            return Self.serviceNamed(byShard: name)
        }

        /// True when no key of the shard is left.
        var isEmpty: Bool { leader == nil && members.isEmpty && sync == nil && epoch == nil }

        /// `ledger-0` -> `retain.v1.Ledger`; nil for names not of that form.
        static func serviceNamed(byShard shard: String) -> String? {
            guard let dash = shard.lastIndex(of: "-"), shard[shard.index(after: dash)...].allSatisfy(\.isNumber),
                dash != shard.startIndex, shard.index(after: dash) != shard.endIndex
            else { return nil }
            let base = shard[..<dash]
            guard base.allSatisfy({ $0.isASCII && $0.isLowercase }) else { return nil }
            return "retain.v1.\(base.prefix(1).uppercased())\(base.dropFirst())"
        }
    }

    /// The key layout, with the cluster's name.
    public let keys: ClusterKeys
    /// Shards by name: every shard with at least one key.
    public private(set) var shards: [String: Shard] = [:]
    /// Rings written by resharding, by full service name.
    public private(set) var rings: [String: RingRecord] = [:]
    /// Keys of the layout whose value could not be read, with what is wrong; such a key counts
    /// as absent.
    public private(set) var unreadable: [String: String] = [:]

    public init(keys: ClusterKeys) {
        self.keys = keys
    }

    /// Applies one key's new value (`nil`: the key was deleted). Returns the shard it changed,
    /// or nil when the key is not part of the layout or nothing changed.
    @discardableResult
    public mutating func apply(key: String, value: Data?) -> String? {
        if let service = keys.ringService(key) {
            let before = rings[service]
            unreadable[key] = nil
            rings[service] = value.flatMap { RingRecord(json: $0) }
            if value != nil, rings[service] == nil { unreadable[key] = "not a ring record" }
            return rings[service] == before ? nil : service
        }
        guard let parsed = keys.parse(key) else { return nil }
        let name = parsed.shard
        var shard = shards[name] ?? Shard(name: name)
        let before = shard
        unreadable[key] = nil
        switch parsed {
        case .leader:
            shard.leader = value.flatMap { LeaderRecord(json: $0) }
            if value != nil, shard.leader == nil { unreadable[key] = "not a leader record" }
        case .member(_, let member):
            shard.members[member] = value.flatMap { MemberRecord(json: $0) }
            if value != nil, shard.members[member] == nil { unreadable[key] = "not a member record" }
        case .sync:
            shard.sync = value.flatMap { SyncRecord(json: $0) }
            if value != nil, shard.sync == nil { unreadable[key] = "not a sync record" }
        case .epoch:
            shard.epoch = value.flatMap { EpochValue.parse($0) }
            if value != nil, shard.epoch == nil { unreadable[key] = "not an epoch number" }
        }
        shards[name] = shard.isEmpty ? nil : shard
        return shard == before ? nil : name
    }

    /// Replaces everything with `pairs` (a full range of ``ClusterKeys/shardsPrefix``, or of
    /// ``ClusterKeys/clusterPrefix`` for the rings too).
    /// Returns the shards that changed, appeared or disappeared.
    @discardableResult
    public mutating func reset(to pairs: [(key: String, value: Data)]) -> Set<String> {
        let old = shards
        var fresh = ClusterState(keys: keys)
        for pair in pairs { fresh.apply(key: pair.key, value: pair.value) }
        self = fresh
        let names = Set(old.keys).union(fresh.shards.keys)
        return names.filter { old[$0] != fresh.shards[$0] }
    }
}
