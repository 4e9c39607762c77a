/// A consistent-hashing ring: each instance owns `virtualNodes` points on a 64-bit circle, and
/// a key belongs to the instance of the first point at or after the key's hash.
///
/// Adding an instance takes over only the arcs in front of its new points, so about 1/(n+1)
/// of the keys move, and all of them move to the new instance; removing one hands its arcs to
/// the next points. Placement depends only on instance ids (not on their order or addresses).
/// Shared by the gateway (routing), the resharding driver (which users move) and the shards
/// (which of their users a ring gives to another shard).
///
/// An instance may hold only its first `k` points (`points`): a resharding adds a new
/// instance's points in groups, each group a ring of its own, so each step moves a small group
/// of users, every one of them to an instance that is gaining points (docs/CLUSTER.md).
public struct HashRing: Sendable {
    private struct Point: Sendable {
        let hash: UInt64
        let instance: Int
    }

    /// The instance ids, in the order the caller gave them; answers are indices into it.
    public let instanceIDs: [String]
    private let points: [Point]
    /// How many instances hold at least one point.
    private let holdingInstances: Int

    /// Builds the ring of `instanceIDs` (distinct) with `virtualNodes` points each, except the
    /// instances `points` names, which hold only their first that many (at most `virtualNodes`;
    /// 0: none, so the instance owns no key).
    public init(instanceIDs: [String], virtualNodes: Int = 128, points partial: [String: Int] = [:]) {
        precondition(virtualNodes > 0, "a ring needs at least one point per instance")
        self.instanceIDs = instanceIDs
        var points: [Point] = []
        points.reserveCapacity(instanceIDs.count * virtualNodes)
        for (index, id) in instanceIDs.enumerated() {
            for replica in 0..<min(max(partial[id] ?? virtualNodes, 0), virtualNodes) {
                points.append(Point(hash: StableHash.hash("\(id)#\(replica)"), instance: index))
            }
        }
        holdingInstances = Set(points.map(\.instance)).count
        // Ties (astronomically rare) break by instance id so every gateway agrees.
        self.points = points.sorted { ($0.hash, instanceIDs[$0.instance]) < ($1.hash, instanceIDs[$1.instance]) }
    }

    /// The index of the instance that owns `key`, or nil for an empty ring.
    public func owner(of key: String) -> Int? {
        guard !points.isEmpty else { return nil }
        return points[firstPoint(atOrAfter: StableHash.hash(key))].instance
    }

    /// Every instance holding a point, in the order the ring offers them for `key`: the owner
    /// first, then where the key would go if the ones before were removed.
    public func preference(of key: String) -> [Int] {
        guard !points.isEmpty else { return [] }
        var order: [Int] = []
        var seen = Set<Int>()
        var index = firstPoint(atOrAfter: StableHash.hash(key))
        for _ in 0..<points.count {
            let instance = points[index].instance
            if seen.insert(instance).inserted {
                order.append(instance)
                if order.count == holdingInstances { break }
            }
            index = (index + 1) % points.count
        }
        return order
    }

    /// Binary search for the first point whose hash is >= `hash`, wrapping to 0.
    private func firstPoint(atOrAfter hash: UInt64) -> Int {
        var low = 0
        var high = points.count
        while low < high {
            let middle = (low + high) / 2
            if points[middle].hash < hash { low = middle + 1 } else { high = middle }
        }
        return low == points.count ? 0 : low
    }
}
