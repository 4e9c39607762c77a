public import Foundation
public import RetainCluster

/// What `retain cluster status` prints: every shard of a replicated cluster with its leader,
/// epoch, sync set and members (role, health, lag), from the keys etcd holds (``ClusterState``).
///
/// A member is alive while its key exists (it lives with the member's lease). A member named by
/// the shard's sync key or leader key without a key of its own is listed as down.
public struct ClusterReport: Encodable, Sendable, Hashable {
    /// One member of a shard.
    public struct Member: Encodable, Sendable, Hashable {
        public var member: String
        /// `leader`, `replica`, `candidate`, or `down` when its key is gone.
        public var role: String
        /// Whether its key exists.
        public var alive: Bool
        /// Whether its acknowledgement counts (it is in the sync set) and it may be promoted.
        public var sync: Bool
        public var address: String?
        public var pid: Int64?
        public var epoch: Int64?
        public var lastSequence: Int64?
        public var durableSequence: Int64?
        public var committedSequence: Int64?
        public var lagRecords: Int64?
        public var lagMs: Int64?
        public var dataDir: String?
        public var updatedUnixMs: Int64?

        enum CodingKeys: String, CodingKey {
            case member, role, alive, sync, address, pid, epoch
            case lastSequence = "last_sequence", durableSequence = "durable_sequence"
            case committedSequence = "committed_sequence", lagRecords = "lag_records", lagMs = "lag_ms"
            case dataDir = "data_dir", updatedUnixMs = "updated_unix_ms"
        }
    }

    /// A shard's leader.
    public struct Leader: Encodable, Sendable, Hashable {
        public var member: String
        public var address: String
        public var epoch: Int64
        public var pid: Int64?
    }

    /// A shard's sync set.
    public struct Sync: Encodable, Sendable, Hashable {
        public var members: [String]
        public var required: Int
        public var epoch: Int64
    }

    /// One shard.
    public struct Shard: Encodable, Sendable, Hashable {
        public var shard: String
        public var service: String?
        /// The epoch key's value.
        public var epoch: Int64?
        /// nil while no member leads.
        public var leader: Leader?
        public var sync: Sync?
        /// Members by name.
        public var members: [Member]
    }

    /// A service's ring key (resharding, docs/CLUSTER.md), with the reshard in progress.
    public struct Ring: Encodable, Sendable, Hashable {
        /// A reshard in progress: the group in flight and the step it reached.
        public struct Reshard: Encodable, Sendable, Hashable {
            public var group: Int
            public var groups: Int
            public var step: String
            /// The version of the ring it ends with.
            public var toVersion: Int64

            enum CodingKeys: String, CodingKey {
                case group, groups, step
                case toVersion = "to_version"
            }
        }

        public var service: String
        public var version: Int64
        /// The ring key's instances as stored (`points` only while a reshard adds or takes off
        /// one in groups).
        public var instances: [RingRecord.Instance]
        public var reshard: Reshard?
    }

    /// The cluster's name.
    public var cluster: String
    /// etcd's revision the report was read at.
    public var revision: Int64
    /// Shards by name.
    public var shards: [Shard]
    /// Rings by service (services routed by a ring key), with their reshards in progress.
    public var rings: [Ring]
    /// Keys whose values could not be read, with what is wrong.
    public var unreadable: [String: String]

    /// The report of `state`, read at `revision`, with the reshard plans by service.
    init(state: ClusterState, revision: Int64, reshards: [String: ReshardPlan] = [:]) {
        cluster = state.keys.cluster
        self.revision = revision
        unreadable = state.unreadable
        rings = state.rings.keys.sorted().map { service in
            let record = state.rings[service]!
            return Ring(
                service: service, version: record.version,
                instances: record.instances,
                reshard: reshards[service].map {
                    Ring.Reshard(group: $0.currentGroup, groups: $0.groupCount, step: $0.step.rawValue, toVersion: $0.to.version)
                })
        }
        shards = state.shards.keys.sorted().map { name in
            let shard = state.shards[name]!
            let syncMembers = Set(shard.sync?.members ?? [])
            var names = Set(shard.members.keys).union(syncMembers)
            if let leader = shard.leader { names.insert(leader.member) }
            let members = names.sorted().map { name -> Member in
                guard let record = shard.members[name] else {
                    let address = shard.leader?.member == name ? shard.leader?.address : nil
                    return Member(member: name, role: "down", alive: false, sync: syncMembers.contains(name), address: address)
                }
                return Member(
                    member: name, role: record.role, alive: true, sync: syncMembers.contains(name),
                    address: record.address, pid: record.pid, epoch: record.epoch,
                    lastSequence: record.lastSequence, durableSequence: record.durableSequence,
                    committedSequence: record.committedSequence, lagRecords: record.lagRecords,
                    lagMs: record.lagMs, dataDir: record.dataDir, updatedUnixMs: record.updatedUnixMs)
            }
            return Shard(
                shard: name, service: shard.service, epoch: shard.epoch,
                leader: shard.leader.map { Leader(member: $0.member, address: $0.address, epoch: $0.epoch, pid: $0.pid) },
                sync: shard.sync.map { Sync(members: $0.members, required: $0.required, epoch: $0.epoch) },
                members: members)
        }
    }

    /// The report as JSON (sorted keys, absent values left out).
    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
    }

    /// The report as text for a terminal: a block per shard, a row per member.
    public var text: String {
        var lines = ["cluster \(cluster): \(shards.count) shard\(shards.count == 1 ? "" : "s") (etcd revision \(revision))"]
        if shards.isEmpty {
            lines.append("no shard has registered in etcd (is any process started with --etcd-endpoints and --cluster \(cluster)?)")
        }
        for shard in shards {
            let leader = shard.leader.map { "\($0.member) at \($0.address)" } ?? "NONE"
            let sync =
                shard.sync.map { sync in
                    "sync \(sync.members.isEmpty ? "-" : sync.members.joined(separator: ",")) (\(sync.required) required)"
                } ?? "sync -"
            lines.append("")
            lines.append("\(shard.shard)  \(shard.service ?? "?")  leader \(leader)  epoch \(shard.epoch.map(String.init) ?? "-")  \(sync)")
            var rows = [["member", "role", "health", "address", "lag records", "lag ms", "last seq", "committed", "pid"]]
            for member in shard.members {
                rows.append([
                    member.member + (member.sync ? "*" : ""), member.role, member.alive ? "alive" : "down",
                    member.address ?? "-", Self.number(member.lagRecords), Self.number(member.lagMs),
                    Self.number(member.lastSequence), Self.number(member.committedSequence), Self.number(member.pid),
                ])
            }
            lines += Self.table(rows).map { "  " + $0 }
        }
        for ring in rings {
            let instances = ring.instances.map { instance in
                instance.id + (instance.points.map { " (\($0)/\(ReshardPlan.ringPoints) points)" } ?? "")
            }
            lines.append("")
            lines.append("ring \(ring.service) v\(ring.version): \(instances.joined(separator: ", "))")
            if let reshard = ring.reshard {
                lines.append(
                    "  reshard in progress: group \(reshard.group) of \(reshard.groups), step '\(reshard.step)', ends at ring v\(reshard.toVersion)"
                )
            }
        }
        if shards.contains(where: { $0.members.contains(where: \.sync) }) {
            lines.append("")
            lines.append("* in the sync set: its acknowledgement counts, and it may be promoted")
        }
        for (key, problem) in unreadable.sorted(by: { $0.key < $1.key }) {
            lines.append("unreadable: \(key): \(problem)")
        }
        return lines.joined(separator: "\n")
    }

    private static func number(_ value: Int64?) -> String { value.map(String.init) ?? "-" }

    /// Left-aligned columns, trailing spaces trimmed.
    private static func table(_ rows: [[String]]) -> [String] {
        let widths = rows[0].indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            let line = row.enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }
                .joined(separator: "  ")
            return String(line.reversed().drop { $0 == " " }.reversed())
        }
    }
}
