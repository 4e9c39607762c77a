extension LocalSuite {
    /// A process of the suite: one of the backend services, or the gateway in front of them.
    public enum Member: Hashable, Sendable, CaseIterable, CustomStringConvertible {
        /// A backend service (its one process, in a suite without replicas).
        case service(Service)
        /// Member `index` (0, 1, ...) of the shard of a service, in a replicated suite: the
        /// leader or one of its replicas, as etcd decides.
        case replica(Service, Int)
        /// The gateway.
        case gateway

        /// Every member of a suite without replicas, the gateway last (the order they start in);
        /// ``LocalSuite/members`` lists those of a given suite.
        public static let allCases: [Member] = Service.allCases.map(Member.service) + [.gateway]

        /// Shorthands for ``service(_:)``, so a call reads `suite.kill(.ledger)`.
        public static let profile = Member.service(.profile)
        public static let growth = Member.service(.growth)
        public static let ledger = Member.service(.ledger)
        public static let feedback = Member.service(.feedback)

        /// Short name: `profile`, ..., `gateway`; a shard's member as `retain up` names it,
        /// `ledger-0-a`, `ledger-0-b`, ...
        public var name: String {
            switch self {
            case .service(let service): service.rawValue
            case .replica(let service, let index):
                SuitePlan.Replication.member(index, of: SuitePlan.Replication.shard(of: service.rawValue))
            case .gateway: "gateway"
            }
        }

        /// The backend service it serves; nil for the gateway.
        public var service: Service? {
            switch self {
            case .service(let service), .replica(let service, _): service
            case .gateway: nil
            }
        }

        /// The executable product, e.g. `retain-profile`.
        public var executable: String { service?.executable ?? "retain-gateway" }

        public var description: String { name }
    }
}
