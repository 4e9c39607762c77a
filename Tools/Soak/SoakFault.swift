import RetainLauncher

/// One fault the soak injects.
enum SoakFault: Sendable, Hashable, CustomStringConvertible {
    /// SIGKILL a member (a crash), then start it again on the same port and data directory.
    case kill(LocalSuite.Member)
    /// SIGTERM a member (a graceful drain), wait for its exit, then start it again.
    case terminate(LocalSuite.Member)
    /// Drop every client connection at once, calls in flight included.
    case cutConnections

    /// The faults in the order the soak injects them, repeated as long as the run lasts: each
    /// service crashes and drains in turn, the gateway crashes, and client connections are cut
    /// in between.
    static let cycle: [SoakFault] = [
        .kill(.ledger), .cutConnections, .terminate(.profile), .kill(.growth), .cutConnections,
        .terminate(.feedback), .kill(.gateway), .kill(.profile), .cutConnections, .terminate(.ledger),
        .kill(.feedback), .terminate(.growth),
    ]

    var description: String {
        switch self {
        case .kill(let member): "SIGKILL \(member) + restart"
        case .terminate(let member): "SIGTERM \(member) + restart"
        case .cutConnections: "cut client connections"
        }
    }
}
