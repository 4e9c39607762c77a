import Foundation

/// A multi-member etcd on loopback, for tests of what happens when members die or hang.
///
/// Members are numbered from 0 in `endpoints` order. The cluster answers while a majority runs:
/// two of three.
public final class EtcdCluster: @unchecked Sendable {
    /// The members, in `endpoints` order.
    public let members: [EtcdProcess]

    /// Every member's client URL, to give `EtcdClient`.
    public var endpoints: [String] { members.map(\.endpoint) }

    /// Starts `count` members (3 by default) that form one cluster, and waits until every one
    /// answers `/health`.
    ///
    /// With a `dataDirectory` in `configuration`, member `i` keeps its data in `member-i` inside
    /// it, and the directories are kept; `clientPort` and `peerPort`, if set, are the first
    /// member's ports and the others use the following ones.
    public init(members count: Int = 3, configuration: EtcdProcess.Configuration = EtcdProcess.Configuration()) throws {
        precondition(count >= 1)
        var lastError: (any Error)?
        for _ in 0..<3 {
            let free = try EtcdProcess.freePorts(2 * count)
            let clientPorts = (0..<count).map { index in configuration.clientPort.map { $0 + index } ?? free[index] }
            let peerPorts = (0..<count).map { index in configuration.peerPort.map { $0 + index } ?? free[count + index] }
            let names = (0..<count).map { "member-\($0)" }
            let initialCluster = (0..<count).map { "\(names[$0])=http://127.0.0.1:\(peerPorts[$0])" }.joined(separator: ",")
            let token = "retain-\(UUID().uuidString)"
            var started: [EtcdProcess] = []
            do {
                for index in 0..<count {
                    started.append(
                        try EtcdProcess(
                            name: names[index], clientPort: clientPorts[index], peerPort: peerPorts[index],
                            initialCluster: initialCluster, clusterToken: token,
                            dataDirectory: configuration.dataDirectory?.appendingPathComponent(names[index]),
                            configuration: configuration))
                }
                let deadline = ContinuousClock.now + configuration.startTimeout
                for member in started {
                    try member.waitUntilHealthy(timeout: max(deadline - ContinuousClock.now, .milliseconds(100)))
                }
                members = started
                return
            } catch {
                started.forEach { $0.shutdown() }
                lastError = error
                // A taken port shows as a member that exited; with fixed ports, retrying cannot help.
                guard case EtcdProcessError.exited = error, configuration.clientPort == nil || configuration.peerPort == nil else {
                    throw error
                }
            }
        }
        throw lastError ?? EtcdProcessError.exited("")
    }

    /// SIGKILLs member `index`.
    public func kill(member index: Int) {
        members[index].kill()
    }

    /// SIGSTOPs member `index`: it hangs with its sockets open.
    public func stop(member index: Int) {
        members[index].suspend()
    }

    /// SIGCONTs member `index` after `stop(member:)`.
    public func `continue`(member index: Int) {
        members[index].resume()
    }

    /// Starts member `index` again (killing it first if it runs) on its ports and data, and
    /// waits until it answers `/health`.
    public func restart(member index: Int, timeout: Duration = .seconds(30)) throws {
        try members[index].restart()
        try members[index].waitUntilHealthy(timeout: timeout)
    }

    /// Stops every member and removes the data directories it created.
    public func shutdown() {
        members.forEach { $0.shutdown() }
    }
}
