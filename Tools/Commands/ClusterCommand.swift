public import ArgumentParser
import Foundation
import Logging
import RetainCluster
import RetainEtcd

/// `retain cluster`: a replicated cluster as etcd sees it.
public struct ClusterCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "cluster", abstract: "Inspect a replicated cluster in etcd.",
        subcommands: [ClusterStatusCommand.self, ReshardCommand.self])

    public init() {}
}

/// `retain cluster status`: every shard's leader, epoch, sync set and members with their role,
/// health and lag, and every ring key with its reshard in progress, read from etcd; `--json`
/// for scripts (with each process's address and pid).
/// Exits 0 once etcd answered, 14 (UNAVAILABLE) when it did not.
public struct ClusterStatusCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Print every shard: leader, epoch, each member's role, lag and health.")

    @Option(name: .customLong("etcd-endpoints"), help: "etcd members, http://HOST:PORT, comma-separated.")
    var etcdEndpoints: String = "http://127.0.0.1:2379"

    @Option(help: "The cluster's name in etcd.")
    var cluster: String = ClusterKeys.defaultCluster

    @Option(help: "Seconds to wait for etcd.")
    var timeout: Double = 3

    @Flag(help: "Print the status as JSON.")
    var json = false

    public init() {}

    public func validate() throws {
        guard !cluster.isEmpty, !cluster.contains("/") else { throw ValidationError("--cluster must be a name without '/'") }
        guard timeout > 0 else { throw ValidationError("--timeout must be positive") }
    }

    public func run() async throws {
        let endpoints = etcdEndpoints.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        var logger = Logger(label: "retain.cluster")
        logger.logLevel = .critical
        let etcd = EtcdClient(endpoints: endpoints, requestTimeout: .milliseconds(Int64(timeout * 1000)), logger: logger)
        let keys = ClusterKeys(cluster: cluster)
        let range: (values: [EtcdKeyValue], revision: Int64)
        do {
            range = try await etcd.range(prefix: keys.clusterPrefix)
        } catch {
            await etcd.shutdown()
            ExitStatus.printError("UNAVAILABLE: cannot read etcd at \(etcdEndpoints): \(error)")
            throw ExitCode(14)
        }
        await etcd.shutdown()
        var state = ClusterState(keys: keys)
        state.reset(to: range.values.map { (key: $0.key, value: Data($0.value)) })
        let reshardPrefix = keys.reshard(service: "")
        var reshards: [String: ReshardPlan] = [:]
        for pair in range.values where pair.key.hasPrefix(reshardPrefix) {
            reshards[String(pair.key.dropFirst(reshardPrefix.count))] = try? JSONDecoder().decode(ReshardPlan.self, from: Data(pair.value))
        }
        let report = ClusterReport(state: state, revision: range.revision, reshards: reshards)
        print(json ? report.json : report.text)
    }
}
