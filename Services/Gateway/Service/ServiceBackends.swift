import GatewayCore
import Synchronization

/// The instances of one backend service and how calls choose among them: one ring, fixed for
/// the object's life (a new set of instances makes a new object; instances that stay are the
/// same ``Backend`` objects, so their connections, health and counters carry over).
final class ServiceBackends: Sendable {
    /// Full service name.
    let name: String
    /// Method names safe to retry without an idempotency key.
    let idempotentMethods: Set<String>
    /// The service's hash ring and routing rules.
    let planner: RoutePlanner
    /// Its instances, in the planner's order.
    let backends: [Backend]
    /// The version of the ring key in etcd the ring comes from, sent with every call as the
    /// metadata `ring-version` (a shard answers a report only for a ring its users match).
    let ringVersion: Int64?
    /// ``ringVersion`` in decimal, as the metadata carries it.
    let ringVersionText: String?
    private let roundRobin = Atomic<Int>(0)

    init(name: String, idempotentMethods: Set<String>, planner: RoutePlanner, backends: [Backend], ringVersion: Int64? = nil) {
        precondition(planner.instanceIDs == backends.map(\.id), "the planner and the backends must list the same instances")
        self.name = name
        self.idempotentMethods = idempotentMethods
        self.planner = planner
        self.backends = backends
        self.ringVersion = ringVersion
        self.ringVersionText = ringVersion.map { String($0) }
    }

    /// The instances to try for a call about `userID` (nil when not user-keyed), best first.
    func candidates(userID: String?) -> [Backend] {
        // One instance is every call's only candidate, healthy or not.
        if backends.count == 1 { return backends }
        let start = roundRobin.wrappingAdd(1, ordering: .relaxed).oldValue
        return planner.candidates(userID: userID, inRotation: backends.map(\.inRotation), start: start)
            .map { backends[$0] }
    }

    /// True while at least one instance takes calls.
    var anyInRotation: Bool { backends.contains { $0.inRotation } }

    /// The instance with id `id`, if the ring has it.
    func backend(id: String) -> Backend? { backends.first { $0.id == id } }
}
