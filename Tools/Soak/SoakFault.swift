#if canImport(Glibc)
import Glibc
#endif

/// One fault the soak injects.
enum SoakFault: Sendable, Hashable, CustomStringConvertible {
    /// SIGKILL a member (a crash), then start it again on the same port and data directory.
    case kill(String)
    /// SIGTERM a member (a graceful drain), wait for its exit, then start it again.
    case terminate(String)
    /// Drop every client connection at once, calls in flight included.
    case cutConnections

    /// The faults in the order the soak injects them, repeated as long as the run lasts: each
    /// service crashes and drains in turn, the gateway crashes, and client connections are cut
    /// in between.
    static let cycle: [SoakFault] = [
        .kill("ledger"), .cutConnections, .terminate("profile"), .kill("growth"), .cutConnections,
        .terminate("feedback"), .kill("gateway"), .kill("profile"), .cutConnections, .terminate("ledger"),
        .kill("feedback"), .terminate("growth"),
    ]

    /// The signal that ends the member, for kill and terminate.
    var signal: Int32? {
        switch self {
        case .kill: SIGKILL
        case .terminate: SIGTERM
        case .cutConnections: nil
        }
    }

    var description: String {
        switch self {
        case .kill(let name): "SIGKILL \(name) + restart"
        case .terminate(let name): "SIGTERM \(name) + restart"
        case .cutConnections: "cut client connections"
        }
    }
}
