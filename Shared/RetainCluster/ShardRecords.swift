public import Foundation

/// The value of a shard's leader key: who leads, where it is reached, in which epoch.
public struct LeaderRecord: Codable, Sendable, Hashable {
    /// The leading member, e.g. `ledger-0-a`.
    public var member: String
    /// `host:port` of its RPC listener.
    public var address: String
    /// The epoch (term) it leads in.
    public var epoch: Int64
    /// The full service name it serves, e.g. `retain.v1.Ledger`.
    public var service: String
    /// Its process id.
    public var pid: Int64?

    public init(member: String, address: String, epoch: Int64, service: String, pid: Int64? = nil) {
        self.member = member
        self.address = address
        self.epoch = epoch
        self.service = service
        self.pid = pid
    }
}

/// The value of a member key: one process's own report, refreshed about every 500 ms.
public struct MemberRecord: Codable, Sendable, Hashable {
    /// The member's name, e.g. `ledger-0-b`.
    public var member: String
    /// `host:port` of its RPC listener.
    public var address: String
    /// The full service name it serves.
    public var service: String
    /// `leader`, `replica` or `candidate`.
    public var role: String
    /// The epoch it last saw.
    public var epoch: Int64
    /// The last sequence in its log.
    public var lastSequence: Int64?
    /// The last sequence on its disk.
    public var durableSequence: Int64?
    /// The last sequence known committed (durable on a quorum).
    public var committedSequence: Int64?
    /// Records behind the leader.
    public var lagRecords: Int64?
    /// Milliseconds behind the leader.
    public var lagMs: Int64?
    /// Its process id.
    public var pid: Int64?
    /// Its data directory.
    public var dataDir: String?
    /// When it wrote this record (Unix milliseconds).
    public var updatedUnixMs: Int64?
    /// The epoch of its last record: with ``lastSequence``, the position elections compare.
    public var lastEpoch: Int64?
    /// The leader it follows (member name); empty when it follows none: a replica clears it when
    /// the leader's key goes, so that its position is final for the election.
    public var following: String?

    public init(
        member: String, address: String, service: String, role: String, epoch: Int64,
        lastSequence: Int64? = nil, durableSequence: Int64? = nil, committedSequence: Int64? = nil,
        lagRecords: Int64? = nil, lagMs: Int64? = nil, pid: Int64? = nil, dataDir: String? = nil,
        updatedUnixMs: Int64? = nil, lastEpoch: Int64? = nil, following: String? = nil
    ) {
        self.lastEpoch = lastEpoch
        self.following = following
        self.member = member
        self.address = address
        self.service = service
        self.role = role
        self.epoch = epoch
        self.lastSequence = lastSequence
        self.durableSequence = durableSequence
        self.committedSequence = committedSequence
        self.lagRecords = lagRecords
        self.lagMs = lagMs
        self.pid = pid
        self.dataDir = dataDir
        self.updatedUnixMs = updatedUnixMs
    }

    enum CodingKeys: String, CodingKey {
        case member, address, service, role, epoch, pid
        case lastSequence = "last_sequence", durableSequence = "durable_sequence"
        case committedSequence = "committed_sequence", lagRecords = "lag_records", lagMs = "lag_ms"
        case dataDir = "data_dir", updatedUnixMs = "updated_unix_ms", lastEpoch = "last_epoch", following
    }
}

/// The value of a shard's sync key: the replicas whose acknowledgement counts, which alone may
/// be promoted.
public struct SyncRecord: Codable, Sendable, Hashable {
    /// The leader that wrote it.
    public var leader: String
    /// Its epoch.
    public var epoch: Int64
    /// The synchronous replicas.
    public var members: [String]
    /// Acknowledgements a write needs besides the leader's.
    public var required: Int

    public init(leader: String, epoch: Int64, members: [String], required: Int) {
        self.leader = leader
        self.epoch = epoch
        self.members = members
        self.required = required
    }
}

extension LeaderRecord {
    /// Decodes a leader key's value; nil when it is not such a JSON object.
    public init?(json: Data) {
        guard let record = try? JSONDecoder().decode(LeaderRecord.self, from: json) else { return nil }
        self = record
    }

    /// The value as the leader key holds it.
    public var json: Data { ShardRecordCoding.encode(self) }
}

extension MemberRecord {
    /// Decodes a member key's value; nil when it is not such a JSON object.
    public init?(json: Data) {
        guard let record = try? JSONDecoder().decode(MemberRecord.self, from: json) else { return nil }
        self = record
    }

    /// The value as the member key holds it.
    public var json: Data { ShardRecordCoding.encode(self) }
}

extension SyncRecord {
    /// Decodes a sync key's value; nil when it is not such a JSON object.
    public init?(json: Data) {
        guard let record = try? JSONDecoder().decode(SyncRecord.self, from: json) else { return nil }
        self = record
    }

    /// The value as the sync key holds it.
    public var json: Data { ShardRecordCoding.encode(self) }
}

/// The epoch key's value: a decimal number, bare or as a JSON string (`"3"`).
public enum EpochValue {
    /// The epoch in `json`, or nil when it holds no decimal number.
    public static func parse(_ json: Data) -> Int64? {
        var text = String(decoding: json, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        if text.count >= 2, text.hasPrefix("\""), text.hasSuffix("\"") { text = String(text.dropFirst().dropLast()) }
        return Int64(text)
    }

    /// The value as the epoch key holds it: `"3"`.
    public static func encode(_ epoch: Int64) -> Data { Data("\"\(epoch)\"".utf8) }
}

/// The one JSON encoding of the records: sorted keys, so equal records are equal bytes.
enum ShardRecordCoding {
    static func encode(_ value: some Encodable) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(value)) ?? Data()
    }
}

/// The value of a service's ring key: the instances the gateways place the service's users on,
/// with a version that every change of the ring raises (online resharding writes it, with a
/// compare on the version it read). With a ring key, the gateways route the service by it
/// instead of by their topology file.
public struct RingRecord: Codable, Sendable, Hashable {
    /// One instance of the ring.
    public struct Instance: Codable, Sendable, Hashable {
        /// Its id on the ring (a shard's name when etcd names its leader).
        public var id: String
        /// `host:port`; a shard's leader in etcd takes precedence.
        public var address: String
        /// How many of its points the instance holds on the ring while a resharding adds it in
        /// groups (``HashRing``); nil (absent in JSON): all of them.
        public var points: Int?

        public init(id: String, address: String, points: Int? = nil) {
            self.id = id
            self.address = address
            self.points = points
        }
    }

    /// Raised by one with every change.
    public var version: Int64
    /// The full service name, e.g. `retain.v1.Growth`.
    public var service: String
    /// The ring's instances, in ring order.
    public var instances: [Instance]

    public init(version: Int64, service: String, instances: [Instance]) {
        self.version = version
        self.service = service
        self.instances = instances
    }

    /// The record in `json`, or nil when it is not one.
    public init?(json: Data) {
        guard let record = try? JSONDecoder().decode(RingRecord.self, from: json) else { return nil }
        self = record
    }

    /// The record as JSON.
    public var json: Data { ShardRecordCoding.encode(self) }

    /// The instances holding only some of their points, with how many (``HashRing``'s
    /// `points`).
    public var partialPoints: [String: Int] {
        Dictionary(uniqueKeysWithValues: instances.compactMap { instance in instance.points.map { (instance.id, $0) } })
    }

    /// The ring's placement of users, with `virtualNodes` points per instance.
    public func hashRing(virtualNodes: Int = 128) -> HashRing {
        HashRing(instanceIDs: instances.map(\.id), virtualNodes: virtualNodes, points: partialPoints)
    }
}
