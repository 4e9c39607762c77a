import Foundation
import GatewayCore
import GatewayService
import Logging
import NIOCore
import RetainCluster
import RetainRPC
import Synchronization

/// A gateway (a ``Forwarder`` behind ``GatewayService``) served on loopback, with a client of
/// it, for tests that drive its routing by hand: by a topology, or by etcd's keys applied one by
/// one (``apply(key:value:)``, as the watch applies them in production).
final class LoopbackGateway: Sendable {
    let forwarder: Forwarder
    let server: RPCServer
    let client: RPCClient
    let keys = ClusterKeys(cluster: "test")
    private let state = Mutex(ClusterState(keys: ClusterKeys(cluster: "test")))
    private let directory: Mutex<ShardDirectory>

    /// Routes by `topology` (none: by the keys applied); a call waits up to `leaderWait` for a
    /// shard's next leader or the next ring.
    init(topology: Topology = Topology(services: []), leaderWait: Duration = .seconds(5)) async throws {
        var configuration = Forwarder.Configuration()
        configuration.retry.leaderWait = leaderWait
        forwarder = Forwarder(topology: topology, configuration: configuration, logger: Logger(label: "gateway"))
        directory = Mutex(ShardDirectory(topology: topology))
        var serverConfiguration = RPCServer.Configuration()
        serverConfiguration.host = "127.0.0.1"
        serverConfiguration.port = 0
        server = RPCServer(
            router: GatewayService(forwarder: forwarder).router, configuration: serverConfiguration,
            logger: Logger(label: "gateway"))
        client = RPCClient(host: "127.0.0.1", port: try await server.start().port!)
    }

    /// etcd's `key` now holds `value` (nil: deleted); the gateway routes by what the keys say.
    func apply(key: String, value: Data?) async {
        let state = state.withLock { state in
            _ = state.apply(key: key, value: value)
            return state
        }
        let directory = directory.withLock { directory in
            _ = directory.update(from: state)
            return directory
        }
        await forwarder.follow(directory)
    }

    func close() async {
        await client.close()
        server.drain()
        try? await server.waitForConnectionsToClose()
        await forwarder.close()
    }
}
