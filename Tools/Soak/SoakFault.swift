import RetainLauncher

/// One fault the soak injects.
enum SoakFault: Sendable, Hashable, CustomStringConvertible {
    /// SIGKILL a member (a crash), then start it again on the same port and data directory.
    case kill(LocalSuite.Member)
    /// SIGTERM a member (a graceful drain), wait for its exit, then start it again.
    case terminate(LocalSuite.Member)
    /// Drop every client connection at once, calls in flight included.
    case cutConnections
    /// SIGKILL the member that leads the service's shard now, then start it again (it rejoins
    /// as a replica, or wins again).
    case killLeader(LocalSuite.Service)
    /// SIGSTOP the member that leads the service's shard for twice its lease, then SIGCONT it:
    /// another member takes over, and the old leader must acknowledge nothing after its lease.
    case pauseLeader(LocalSuite.Service)
    /// SIGKILL a member of the service's shard that does not lead, then start it again (it
    /// catches up from the leader).
    case killReplica(LocalSuite.Service)

    /// The faults in the order the soak injects them, repeated as long as the run lasts: each
    /// service crashes and drains in turn, the gateway crashes, and client connections are cut
    /// in between.
    static let cycle: [SoakFault] = [
        .kill(.ledger), .cutConnections, .terminate(.profile), .kill(.growth), .cutConnections,
        .terminate(.feedback), .kill(.gateway), .kill(.profile), .cutConnections, .terminate(.ledger),
        .kill(.feedback), .terminate(.growth),
    ]

    /// The cycle against a replicated suite: each service's leader is killed and paused past
    /// its lease and one of its replicas killed, in turn, with client connections cut between.
    static let replicatedCycle: [SoakFault] = [
        .killLeader(.ledger), .pauseLeader(.profile), .killReplica(.growth), .cutConnections,
        .killLeader(.feedback), .pauseLeader(.ledger), .killReplica(.profile), .cutConnections,
        .killLeader(.growth), .pauseLeader(.feedback), .killReplica(.ledger), .cutConnections,
        .killLeader(.profile), .pauseLeader(.growth), .killReplica(.feedback), .cutConnections,
    ]

    /// The service whose writes the fault interrupts, for its failover time; nil for faults
    /// that reach every service (the gateway, the connections).
    var service: LocalSuite.Service? {
        switch self {
        case .kill(let member), .terminate(let member): member.service
        case .cutConnections: nil
        case .killLeader(let service), .pauseLeader(let service), .killReplica(let service): service
        }
    }

    var description: String {
        switch self {
        case .kill(let member): "SIGKILL \(member) + restart"
        case .terminate(let member): "SIGTERM \(member) + restart"
        case .cutConnections: "cut client connections"
        case .killLeader(let service): "SIGKILL \(service.rawValue) leader + restart"
        case .pauseLeader(let service): "SIGSTOP \(service.rawValue) leader, SIGCONT"
        case .killReplica(let service): "SIGKILL \(service.rawValue) replica + restart"
        }
    }
}
