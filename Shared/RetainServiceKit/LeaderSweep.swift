public import Logging
public import RetainClock
public import RetainState
public import ServiceLifecycle
import Synchronization

/// A logged sweep run every `interval` where writes are accepted (a single process, or a
/// shard's leader) until the service group shuts down: the one loop behind the services'
/// periodic, logged decisions (Profile's churn-warning sweep, Growth's keep-up reviews). The
/// sweep itself plans from the state and logs what it decided, so applying it is the same live,
/// at replay and on replicas; `sweep` returns what to log about a round, or nil for nothing.
public final class LeaderSweep<State: PersistentState>: Service, Sendable {
    private let store = Mutex<StateStore<State>?>(nil)
    private let name: String
    private let interval: Duration
    private let clock: ServiceClock
    private let logger: Logger
    private let sweep: @Sendable (StateStore<State>, _ now: Int64) async throws -> Logger.Metadata?

    /// - Parameters:
    ///   - name: what the log lines call a round ("level reviews").
    ///   - sweep: one round at the clock time `now`; the metadata of a round that did something.
    public init(
        name: String, interval: Duration, clock: ServiceClock = .system, logger: Logger,
        sweep: @escaping @Sendable (StateStore<State>, _ now: Int64) async throws -> Logger.Metadata?
    ) {
        self.name = name
        self.interval = interval
        self.clock = clock
        self.logger = logger
        self.sweep = sweep
    }

    /// The store to sweep (set before the service group runs).
    public func attach(_ store: StateStore<State>) {
        self.store.withLock { $0 = store }
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully {
            // A shutdown ends the wait at once (a graceful shutdown cancels no task by itself).
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: self.interval) }
            if Task.isShuttingDownGracefully { return }
            guard let store = store.withLock({ $0 }) else { continue }
            if let gate = store.commitGate, gate.writeRefusal() != nil { continue }
            do {
                if let metadata = try await sweep(store, clock.now()) { logger.info("\(name)", metadata: metadata) }
            } catch {
                logger.error("\(name) failed: \(error)")
            }
        }
    }
}
