import ArgumentParser
import Foundation
import GatewayCore
import GatewayGRPC
import GatewayService
import Logging
import RetainAuth
import RetainCluster
import RetainEtcd
import RetainProto
import RetainRPC
import RetainServiceKit
import ServiceLifecycle
import RetainFlowRules

/// `retain-gateway serve`: forwards calls to the topology's backends (and, with
/// `--etcd-endpoints`, to the leaders of a replicated cluster's shards) and serves the flows.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Serve the gateway (the default subcommand).")

    @OptionGroup var options: ServerOptions

    @OptionGroup(title: "TLS to the backends") var peerTLS: PeerTLSOptions

    @Option(help: "Topology file: the backend instances of each service (JSON). Optional with --etcd-endpoints.")
    var topology: String?

    @Option(
        name: .customLong("etcd-endpoints"),
        help: "etcd members (http://HOST:PORT, comma-separated): route each shard of a replicated cluster to its leader, as etcd names it.")
    var etcdEndpoints: String?

    @Option(help: "The replicated cluster's name in etcd (with --etcd-endpoints).")
    var cluster: String = ClusterKeys.defaultCluster

    @Option(
        help:
            "Flow configuration file (JSON): welcome bonus, referral, level, task and compensation rewards. Default: the built-in rewards.")
    var config: String?

    @Option(name: .customLong("health-interval-ms"), help: "Milliseconds between health checks of each backend.")
    var healthIntervalMs: Int = 1000

    @Option(name: .customLong("default-timeout-ms"), help: "Deadline of forwarded calls and flows whose caller set none, in ms.")
    var defaultTimeoutMs: Int = 30_000

    @Option(
        name: .customLong("connections-per-backend"),
        help: "TCP connections to each backend instance (default: one per core, so a call is forwarded on its own event loop).")
    var connectionsPerBackend: Int = Forwarder.Configuration().connectionsPerBackend

    @Flag(
        name: .customLong("pay-level-changes"), inversion: .prefixedNo,
        help: "Follow Growth's level-change streams and pay every level reward not paid yet, whatever caused the level change.")
    var payLevelChanges = true

    @Option(
        name: .customLong("campaign-interval-ms"),
        help: "Milliseconds between rounds of the recall campaigns (touch the members due, pay the return rewards); 0 runs none.")
    var campaignIntervalMs: Int = 10_000

    @Option(
        name: .customLong("api-keys-file"),
        help: "API keys the gateway accepts (JSON, hashed; see docs/SECURITY.md); also $RETAIN_API_KEYS.")
    var apiKeysFile: String?

    @Option(
        name: .customLong("grpc-port"),
        help: "Also serve standard gRPC over HTTP/2 on this port (0 picks a free one; same host and TLS as the native port). Default: off.")
    var grpcPort: Int?

    @Option(
        name: .customLong("flows-refresh-ms"),
        help: "How long the flows use the rewards read from the ledger's rule set before asking again, in ms.")
    var flowsRefreshMs: Int = 1000

    func validate() throws {
        if let grpcPort, !(0...65535).contains(grpcPort) { throw ValidationError("--grpc-port must be 0 to 65535") }
        guard topology != nil || etcdEndpoints != nil else {
            throw ValidationError("give --topology, --etcd-endpoints or both")
        }
        guard !cluster.isEmpty, !cluster.contains("/") else { throw ValidationError("--cluster must be a name without '/'") }
        guard healthIntervalMs >= 50 else { throw ValidationError("--health-interval-ms must be at least 50") }
        guard campaignIntervalMs == 0 || campaignIntervalMs >= 100 else {
            throw ValidationError("--campaign-interval-ms must be 0 (off) or at least 100")
        }
        guard flowsRefreshMs >= 0 else { throw ValidationError("--flows-refresh-ms must not be negative") }
        guard defaultTimeoutMs >= 1 else { throw ValidationError("--default-timeout-ms must be positive") }
        guard (1...16).contains(connectionsPerBackend) else { throw ValidationError("--connections-per-backend must be 1 to 16") }
    }

    func run() async throws {
        ServiceRunner.bootstrapLogging(level: options.logLevel)
        let logger = Logger(label: "retain.gateway")
        let topology = try ConfigurationFile.load(
            self.topology, option: "--topology", defaults: { Topology(services: []) }, parse: { try Topology.load(path: $0) })
        let flows = try ConfigurationFile.load(config, defaults: { .standard }, parse: { try FlowConfiguration.load(path: $0) })
        var forwarding = Forwarder.Configuration()
        forwarding.defaultTimeout = .milliseconds(defaultTimeoutMs)
        forwarding.connectionsPerBackend = connectionsPerBackend
        // Callers present API keys (or service tokens); backends get tokens the gateway mints.
        var authenticator: APIKeyAuthenticator?
        var minter: TokenMinter?
        var reloads: [CredentialReloader.Source] = []
        if let secret = try options.serviceSecret() {
            let keys = try APIKeyStore.load(file: apiKeysFile)
            let verifier = TokenVerifier(secret: secret)
            let apiKeys = APIKeyAuthenticator(keys: keys, tokens: verifier)
            let tokens = TokenMinter(secret: secret, configuration: .init(issuer: "gateway"))
            authenticator = apiKeys
            minter = tokens
            // The secret and the key file rotate without a restart (file change or SIGHUP).
            if let source = options.secretSource(rotating: verifier, minter: tokens) { reloads.append(source) }
            if let apiKeysFile {
                reloads.append(
                    .init(name: "api_keys", files: [apiKeysFile]) {
                        let reloaded = try APIKeyStore.load(file: apiKeysFile)
                        apiKeys.replaceKeys(reloaded)
                        logger.notice("API keys reloaded", metadata: ["ids": "\(reloaded.entries.keys.sorted().joined(separator: ","))"])
                    })
            }
            logger.info("API keys loaded", metadata: ["ids": "\(keys.entries.keys.sorted().joined(separator: ","))"])
            if keys.entries.isEmpty {
                logger.warning("no API keys (--api-keys-file or RETAIN_API_KEYS): only service tokens are accepted")
            }
        }
        forwarding.tls = try peerTLS.load()
        let forwarder = Forwarder(topology: topology, configuration: forwarding, logger: logger, minter: minter)
        var configuration = GatewayService.Configuration()
        configuration.flows = flows
        var flowRulesConfiguration = FlowRulesSource.Configuration()
        flowRulesConfiguration.refresh = .milliseconds(flowsRefreshMs)
        if let config { flowRulesConfiguration.origin = "flows configuration \(config) (stored by the gateway)" }
        let flowRules = FlowRulesSource(forwarder: forwarder, fallback: flows, configuration: flowRulesConfiguration, logger: logger)
        configuration.flowRules = flowRules
        configuration.flowTimeout = .milliseconds(defaultTimeoutMs)
        let health = HealthStatus()
        let checker = HealthChecker(
            forwarder: forwarder, health: health, interval: .milliseconds(healthIntervalMs),
            timeout: .milliseconds(min(800, max(100, healthIntervalMs * 4 / 5))), logger: logger)
        logger.info(
            "routing",
            metadata: [
                "services": "\(topology.services.keys.sorted().joined(separator: ","))",
                "instances": "\(topology.services.values.reduce(0) { $0 + $1.instances.count })",
            ])
        var services: [any Service] = [checker, CredentialReloader(sources: reloads, logger: logger)]
        if payLevelChanges {
            services.append(LevelRewardFollower(forwarder: forwarder, flows: flows, flowRules: flowRules, logger: logger))
        }
        if campaignIntervalMs > 0 {
            var campaigns = CampaignRunner.Configuration()
            campaigns.interval = .milliseconds(campaignIntervalMs)
            services.append(CampaignRunner(forwarder: forwarder, flows: flows, configuration: campaigns, logger: logger))
        }
        var etcd: EtcdClient?
        if let etcdEndpoints {
            let endpoints = etcdEndpoints.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            // A watch on a member that hangs would wait forever: end it after a quiet spell (etcd's
            // progress notifications, every --experimental-watch-progress-notify-interval, keep a
            // healthy one alive; without them the watch is merely opened again) and watch again.
            var etcdConfiguration = EtcdClient.Configuration()
            etcdConfiguration.watchIdleTimeout = .seconds(30)
            let client = EtcdClient(endpoints: endpoints, configuration: etcdConfiguration, logger: logger)
            services.append(LeaderFollower(etcd: client, cluster: cluster, topology: topology, forwarder: forwarder, logger: logger))
            etcd = client
            logger.info("following shard leaders in etcd", metadata: ["endpoints": "\(endpoints)", "cluster": "\(cluster)"])
        }
        if options.dataDirectory != nil {
            logger.notice("the gateway keeps no state: --data-dir is ignored")
        }
        let router = GatewayService(forwarder: forwarder, configuration: configuration).router
        var frontDoor: GRPCFrontDoor?
        if let grpcPort {
            let door = try grpcFrontDoor(port: grpcPort, router: router, forwarder: forwarder, logger: logger)
            services.append(door)
            // Its certificates rotate like the native port's: a file change or SIGHUP.
            if !door.watchedTLSFiles.isEmpty {
                services.append(
                    CredentialReloader(
                        sources: [.init(name: "grpc_tls", files: door.watchedTLSFiles) { try door.reloadTLS() }], logger: logger))
            }
            frontDoor = door
        }
        try await ServiceRunner.run(
            name: "retain-gateway", router: router,
            options: options, logger: logger, services: services,
            health: health, authenticator: authenticator,
            onServing: { frontDoor?.serve(through: $0.inProcessCalls) })
        await etcd?.shutdown()
        await forwarder.close()
    }

    /// The gRPC front door on `port`: the native port's host, TLS files and maximum message size;
    /// reflection lists the gateway's own services and those it routes.
    private func grpcFrontDoor(port: Int, router: RPCRouter, forwarder: Forwarder, logger: Logger) throws -> GRPCFrontDoor {
        var configuration = GRPCFrontDoor.Configuration()
        configuration.host = options.host
        configuration.port = port
        configuration.maximumMessageBytes = options.maximumFrameBytes
        configuration.maximumConcurrentStreams = options.maximumConcurrentCalls
        if let certificate = options.tls.certificateFile, let key = options.tls.keyFile {
            configuration.tls = .init(certificateFile: certificate, keyFile: key, clientCAFile: options.tls.clientCAFile)
        }
        let own = Set(router.methods.map { String($0.path.prefix { $0 != "/" }) } + ["retain.v1.Health", "retain.v1.Reflection"])
        return try GRPCFrontDoor(configuration: configuration, logger: logger) {
            own.union(forwarder.routedServices).sorted()
        }
    }
}
