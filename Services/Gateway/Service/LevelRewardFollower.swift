public import GatewayCore
public import Logging
public import RetainClock
import RetainProto
import RetainRPC
import RetainWire
public import ServiceLifecycle
public import RetainFlowRules

/// Follows `Growth.WatchLevelChanges` on every Growth instance (a shard's at its leader) and
/// pays each level change's reward through the ledger with ``LevelChangeRewards``, so that a
/// level reached by any write — a flow, a check-in, an award sent to Growth directly — is paid
/// exactly once (transfer `level:<user>:<level>`, shared with the flows).
///
/// The gateway keeps no state: after a start it reads each stream from its first retained event
/// and pays what the ledger does not hold yet (one LookupTransfers per batch of events). A
/// broken stream is opened again after the last event handled; another stream id (a replaced
/// data directory) starts from the first event; events pruned before they were read are given
/// up (logged) and the stream is followed from its end. A payment the ledger refuses (the level
/// budget is exhausted) is tried again after `retryDelay`, holding the stream there.
public struct LevelRewardFollower: Service {
    /// How the follower behaves.
    public struct Configuration: Sendable {
        /// Events paid per batch while catching up. Default 256.
        public var batchEvents = 256
        /// Wait before opening a broken stream again or retrying a refused batch. Default 1 s.
        public var retryDelay: Duration = .seconds(1)
        /// Deadline of each batch's ledger calls. Default 30 s.
        public var batchTimeout: Duration = .seconds(30)

        public init() {}
    }

    static let growth = "retain.v1.Growth"

    let forwarder: Forwarder
    let flows: FlowConfiguration
    /// Where the rewards in force are read (the ledger's rule set); nil pays by ``flows``.
    let flowRules: FlowRulesSource?
    let configuration: Configuration
    let clock: ServiceClock
    let logger: Logger

    public init(
        forwarder: Forwarder, flows: FlowConfiguration, flowRules: FlowRulesSource? = nil,
        configuration: Configuration = Configuration(), clock: ServiceClock = .system, logger: Logger
    ) {
        self.forwarder = forwarder
        self.flows = flows
        self.flowRules = flowRules
        self.configuration = configuration
        self.clock = clock
        self.logger = logger
    }

    /// Follows every Growth instance until graceful shutdown or cancellation; instances that
    /// appear later (shards named by etcd) are followed from then on.
    public func run() async throws {
        // Without level rewards there is nothing to pay; wait for the shutdown rather than
        // return (a service whose `run` returns ends the gateway's service group).
        guard flows.levelRewards != nil else { return try await gracefulShutdown() }
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                var following = Set<String>()
                while !Task.isCancelled {
                    for backend in forwarder.services[Self.growth]?.backends ?? [] where following.insert(backend.id).inserted {
                        let id = backend.id
                        group.addTask { await follow(instance: id) }
                    }
                    try? await Task.sleep(for: configuration.retryDelay)
                }
            }
        }
    }

    /// Follows one instance's stream until cancelled.
    func follow(instance id: String) async {
        var cursor = LevelStreamCursor()
        while !Task.isCancelled {
            do {
                try await followOnce(instance: id, cursor: &cursor)
            } catch is CancellationError {
                return
            } catch let error as RPCError where error.code == .outOfRange {
                logger.error(
                    "level-change events were pruned before the gateway read them; their level rewards are not paid by the follower (the flows pay their own)",
                    metadata: ["instance": "\(id)", "after": "\(cursor.position)", "error": "\(error.message)"])
                cursor.skipToEnd()
            } catch {
                if Task.isCancelled { return }
                logger.debug("level-change stream interrupted", metadata: ["instance": "\(id)", "error": "\(error)"])
            }
            try? await Task.sleep(for: configuration.retryDelay)
        }
    }

    /// Reads the stream from the cursor, paying batch by batch, until it ends, breaks or turns
    /// out to be another stream.
    private func followOnce(instance id: String, cursor: inout LevelStreamCursor) async throws {
        guard let endpoint = forwarder.services[Self.growth]?.backend(id: id)?.endpoint else { return }
        var pending: [Retain_V1_LevelChangeEvent] = []
        for try await message in endpoint.client.serverStreaming(Retain_V1_Growth.watchLevelChanges, cursor.request) {
            guard cursor.observe(message) == .handle else { return }
            if let event = message.event { pending.append(event) }
            // Pay once a batch is full or the stream has caught up with its head.
            let caughtUp = message.event.map { $0.position >= message.headPosition } ?? true
            guard !pending.isEmpty, pending.count >= configuration.batchEvents || caughtUp else { continue }
            try await pay(pending, instance: id)
            cursor.handled(upTo: pending[pending.count - 1].position)
            pending.removeAll(keepingCapacity: true)
        }
    }

    /// Pays one batch, trying again while the ledger refuses it.
    private func pay(_ events: [Retain_V1_LevelChangeEvent], instance id: String) async throws {
        while true {
            let backend = GatewayFlowBackend(
                forwarder: forwarder, deadline: .now + configuration.batchTimeout,
                options: CallOptions(traceID: TraceIDs.next()))
            do {
                let rules = await flowRules?.current() ?? flows
                let outcome = try await LevelChangeRewards(backend: backend, configuration: rules).pay(events, now: clock.now())
                if !outcome.paid.isEmpty {
                    logger.info(
                        "level rewards paid from the level-change stream",
                        metadata: ["instance": "\(id)", "transfers": "\(outcome.paid.joined(separator: ","))"])
                }
                return
            } catch let error as FlowError {
                logger.warning("level rewards not paid yet", metadata: ["instance": "\(id)", "error": "\(error)"])
                try await Task.sleep(for: configuration.retryDelay)
            }
        }
    }
}
