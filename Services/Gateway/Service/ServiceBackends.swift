import GatewayCore
import Synchronization

/// The instances of one backend service and how calls choose among them.
final class ServiceBackends: Sendable {
    /// The service's topology entry and hash ring.
    let planner: RoutePlanner
    /// Its instances, in topology order.
    let backends: [Backend]
    private let roundRobin = Atomic<Int>(0)

    init(planner: RoutePlanner, backends: [Backend]) {
        self.planner = planner
        self.backends = backends
    }

    /// Full service name.
    var name: String { planner.service.name }

    /// The instances to try for a call about `userID` (nil when not user-keyed), best first.
    func candidates(userID: String?) -> [Backend] {
        let start = roundRobin.wrappingAdd(1, ordering: .relaxed).oldValue
        return planner.candidates(userID: userID, inRotation: backends.map(\.inRotation), start: start)
            .map { backends[$0] }
    }

    /// True while at least one instance takes calls.
    var anyInRotation: Bool { backends.contains { $0.inRotation } }
}
