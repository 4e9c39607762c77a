public import RetainCluster

/// Chooses the instances one call may go to, in the order to try them: pure logic over the
/// topology, the hash ring and the instances' health, testable without sockets.
public struct RoutePlanner: Sendable {
    /// The service's hash ring, built from the instance ids (in topology order).
    public let ring: HashRing
    /// Whether user-keyed calls may move to the next instance while the owner is unhealthy.
    public let userFailover: Bool
    /// The instances holding only some of their points, by id.
    public let points: [String: Int]

    /// The planner of `instanceIDs` (distinct, in the order answers index them); the instances
    /// `points` names hold only that many of their points (a resharding in progress).
    public init(instanceIDs: [String], userFailover: Bool = false, virtualNodes: Int, points: [String: Int] = [:]) {
        self.ring = HashRing(instanceIDs: instanceIDs, virtualNodes: virtualNodes, points: points)
        self.points = points
        self.userFailover = userFailover
    }

    /// The planner of a topology's service.
    public init(service: Topology.Service, virtualNodes: Int) {
        self.init(instanceIDs: service.instances.map(\.id), userFailover: service.userFailover, virtualNodes: virtualNodes)
    }

    /// The instance ids, in the order answers index them.
    public var instanceIDs: [String] { ring.instanceIDs }

    /// The instances to try for a call, best first; the caller makes attempt `n` on
    /// `candidates[n % count]`.
    ///
    /// - A call about one user (`userID` not empty) goes to the user's owner on the ring, healthy
    ///   or not: its state lives there. Only with `user_failover` does it move on to the next
    ///   healthy instances along the ring while the owner is out of rotation.
    /// - Other calls spread round robin (from `start`) over the instances in rotation, or over
    ///   all of them when none is (the health view may be stale; trying beats failing).
    /// - Parameters:
    ///   - userID: the request's `user_id`, or nil when the method is not user-keyed.
    ///   - inRotation: per instance (topology order), whether it takes calls now.
    ///   - start: a counter that advances per call, for round robin.
    public func candidates(userID: String?, inRotation: [Bool], start: Int) -> [Int] {
        precondition(inRotation.count == instanceIDs.count)
        if let userID, !userID.isEmpty {
            let preference = ring.preference(of: userID)
            guard userFailover else { return Array(preference.prefix(1)) }
            let healthy = preference.filter { inRotation[$0] }
            return healthy.isEmpty ? Array(preference.prefix(1)) : healthy
        }
        let count = instanceIDs.count
        guard count > 0 else { return [] }
        let rotated = (0..<count).map { (start % count + count + $0) % count }
        let healthy = rotated.filter { inRotation[$0] }
        return healthy.isEmpty ? rotated : healthy
    }

    /// The owner of `userID` and the instances that would take over, in ring order.
    public func placement(of userID: String) -> (owner: Int, fallbacks: [Int])? {
        let preference = ring.preference(of: userID)
        guard let owner = preference.first else { return nil }
        return (owner, Array(preference.dropFirst()))
    }
}
