import Foundation
import Logging
import RetainCluster
import RetainEtcd
import RetainProcess

extension LocalSuite {
    /// The members of `service`'s shard, in order (its one process, without replicas).
    public func members(of service: Service) -> [Member] {
        members.filter { $0.service == service }
    }

    /// The member that leads `service`'s shard now, as its leader key in etcd says, when that
    /// member runs with the process id the key names (a key left by a process that died lives
    /// until its lease lapses); nil when none does. Without replicas: the service's process.
    public func leader(of service: Service) async throws -> Member? {
        guard let replication, let etcd else { return .service(service) }
        var logger = Logger(label: "retain.suite")
        logger.logLevel = .critical
        let client = EtcdClient(endpoints: [etcd.endpoint], requestTimeout: .seconds(5), logger: logger)
        let keys = ClusterKeys(cluster: replication.cluster)
        let value: EtcdKeyValue?
        do {
            value = try await client.get(keys.leader(shard: SuitePlan.Replication.shard(of: service.rawValue)))
        } catch {
            await client.shutdown()
            throw error
        }
        await client.shutdown()
        guard let value, let record = LeaderRecord(json: Data(value.value)),
            let member = members(of: service).first(where: { $0.name == record.member }),
            let pid = pid(of: member), record.pid.map({ $0 == Int64(pid) }) ?? true
        else { return nil }
        return member
    }

    /// Waits until ``leader(of:)`` names a member of `service`'s shard, and returns it.
    ///
    /// - Throws: ``LocalSuiteError/noLeader(_:_:)`` when none leads within `timeout`.
    public func waitForLeader(of service: Service, timeout: Duration = .seconds(30)) async throws -> Member {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let leader = try? await leader(of: service) { return leader }
            guard ContinuousClock.now < deadline else { throw LocalSuiteError.noLeader(service, timeout) }
            try await Task.sleep(for: .milliseconds(100))
        }
    }
}

/// Why a local suite could not be used.
public enum LocalSuiteError: Error, CustomStringConvertible {
    /// No member of the service's shard took the lead in time.
    case noLeader(LocalSuite.Service, Duration)

    public var description: String {
        switch self {
        case .noLeader(let service, let timeout): "no member of \(service.rawValue)'s shard leads after \(timeout)"
        }
    }
}
