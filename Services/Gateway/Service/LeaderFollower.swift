import Foundation
public import GatewayCore
public import Logging
import RetainCluster
public import RetainEtcd
public import ServiceLifecycle

/// Follows the leaders of a replicated cluster's shards (and the rings resharding writes) in
/// etcd and routes the gateway's calls to them: a full read of `/retain/<cluster>/` at start, then a watch from the revision
/// after it; each change goes through ``ClusterState`` and ``ShardDirectory`` to the
/// ``Forwarder``, so a new leader takes calls as soon as etcd names it, without a restart or a
/// file edit.
///
/// A watch that ends (its etcd member died, the connection dropped) is opened again from the
/// last revision seen + 1, on the next member if need be, after a short pause; a watch etcd
/// refuses (the revision was compacted) starts over with a full read. While etcd cannot be
/// reached the gateway keeps routing to the leaders it knows.
public struct LeaderFollower: Service {
    let etcd: EtcdClient
    let keys: ClusterKeys
    let forwarder: Forwarder
    let logger: Logger
    let directory: ShardDirectory

    /// A follower of `cluster` that starts from `topology` (its rings and options; see
    /// ``ShardDirectory``) and routes `forwarder`'s calls.
    public init(etcd: EtcdClient, cluster: String, topology: Topology, forwarder: Forwarder, logger: Logger) {
        self.etcd = etcd
        self.keys = ClusterKeys(cluster: cluster)
        self.forwarder = forwarder
        self.logger = logger
        self.directory = ShardDirectory(topology: topology)
    }

    /// Follows until graceful shutdown or cancellation.
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await follow()
        }
    }

    /// The loop: read, watch, read or watch again after a failure.
    func follow() async {
        var state = ClusterState(keys: keys)
        var directory = self.directory
        var revision: Int64?
        var pause: Duration = .milliseconds(100)
        var failures = 0
        while !Task.isCancelled {
            do {
                if revision == nil {
                    let range = try await etcd.range(prefix: keys.clusterPrefix)
                    state.reset(to: range.values.map { (key: $0.key, value: Data($0.value)) })
                    revision = range.revision
                    await route(&directory, state, reason: "read")
                }
                for try await event in etcd.watch(prefix: keys.clusterPrefix, fromRevision: revision.map { $0 + 1 }) {
                    state.apply(key: event.keyValue.key, value: event.kind == .put ? Data(event.keyValue.value) : nil)
                    revision = event.revision
                    await route(&directory, state, reason: "watch")
                    if failures > 0 {
                        logger.notice("etcd watch back", metadata: ["revision": "\(event.revision)"])
                        failures = 0
                    }
                    pause = .milliseconds(100)
                }
                guard !Task.isCancelled else { return }
                logger.debug("etcd watch ended; watching again", metadata: ["revision": "\(revision ?? 0)"])
            } catch {
                guard !Task.isCancelled else { return }
                if let error = error as? EtcdError, case .server = error.kind {
                    // etcd refused the watch (a compacted revision, say): read everything again.
                    revision = nil
                }
                failures += 1
                // The first failure of a streak is worth a warning; the retries after it are not.
                logger.log(
                    level: failures == 1 ? .warning : .debug, "etcd watch failed; routing to the leaders known",
                    metadata: ["error": "\(error)", "revision": "\(revision.map(String.init) ?? "none")"])
            }
            try? await Task.sleep(for: pause)
            pause = min(pause * 2, .seconds(2))
        }
    }

    /// Hands the rings to the forwarder when they changed, and logs the moves.
    private func route(_ directory: inout ShardDirectory, _ state: ClusterState, reason: String) async {
        let before = directory
        guard directory.update(from: state) else { return }
        for ring in directory.rings.values.sorted(by: { $0.service < $1.service }) {
            for id in ring.instanceIDs where ring.followed.contains(id) {
                let old = before.rings[ring.service]?.addresses[id]
                let new = ring.addresses[id]
                let oldEpoch = before.rings[ring.service]?.epochs[id]
                guard old != new || oldEpoch != ring.epochs[id] else { continue }
                logger.notice(
                    new == nil ? "shard has no leader" : "shard leader",
                    metadata: [
                        "service": "\(ring.service)", "shard": "\(id)", "address": "\(new?.address ?? "-")",
                        "epoch": "\(ring.epochs[id].map(String.init) ?? "-")", "from": "\(reason)",
                    ])
            }
        }
        await forwarder.follow(directory)
    }
}
