extension LocalSuite {
    /// A process of the suite: one of the backend services, or the gateway in front of them.
    public enum Member: Hashable, Sendable, CaseIterable, CustomStringConvertible {
        /// A backend service.
        case service(Service)
        /// The gateway.
        case gateway

        /// Every member, the gateway last (the order they start in).
        public static let allCases: [Member] = Service.allCases.map(Member.service) + [.gateway]

        /// Shorthands for ``service(_:)``, so a call reads `suite.kill(.ledger)`.
        public static let profile = Member.service(.profile)
        public static let growth = Member.service(.growth)
        public static let ledger = Member.service(.ledger)
        public static let feedback = Member.service(.feedback)

        /// Short name: `profile`, ..., `gateway`.
        public var name: String {
            switch self {
            case .service(let service): service.rawValue
            case .gateway: "gateway"
            }
        }

        /// The executable product, e.g. `retain-profile`.
        public var executable: String { "retain-\(name)" }

        public var description: String { name }
    }
}
