public import Logging
public import ProfileCore
public import RetainClock
import RetainProto
public import RetainState
public import ServiceLifecycle
import Synchronization

/// Finds the users who entered (or left) the churn-warning list: every `interval` it plans a
/// sweep from the state (a read) and logs it like any other change, so applying it (live, at
/// replay and on replicas) queues one `churn_warning` webhook per user per warning episode
/// (docs/WEBHOOKS.md). Does nothing while nobody subscribes to `churn_warning`; replicated,
/// only the shard's leader sweeps.
public final class ChurnWarningSweeper: Service, Sendable {
    private let store = Mutex<StateStore<ProfileState>?>(nil)
    private let evaluator: LifecycleEvaluator
    private let interval: Duration
    private let clock: ServiceClock
    private let logger: Logger

    public init(configuration: ProfileConfiguration, interval: Duration, clock: ServiceClock = .system, logger: Logger) {
        self.evaluator = LifecycleEvaluator(rules: configuration.lifecycle)
        self.interval = interval
        self.clock = clock
        self.logger = logger
    }

    /// The store to sweep (set before the service group runs).
    public func attach(_ store: StateStore<ProfileState>) {
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
                if let counts = try await Self.sweep(store, now: clock.now(), evaluator: evaluator) {
                    logger.info("churn-warning sweep", metadata: ["entered": "\(counts.entered)", "left": "\(counts.left)"])
                }
            } catch {
                logger.error("churn-warning sweep failed: \(error)")
            }
        }
    }

    /// Plans and logs one sweep at `now` by the lifecycle thresholds in force then (live
    /// configuration; `evaluator` is the file's, before any version is stored), durably; how many
    /// users entered and left, or nil when nothing changed.
    @discardableResult
    public static func sweep(
        _ store: StateStore<ProfileState>, now: Int64, evaluator: LifecycleEvaluator
    ) async throws -> (entered: Int, left: Int)? {
        guard
            let entry = store.read({ $0.planChurnSweep(now: now, evaluator: $0.lifecycleEvaluator(now: now, fallback: evaluator)) }),
            let sweep = entry.churnSweep
        else {
            return nil
        }
        try await store.writeDurably { transaction in try transaction.log(entry) }
        return (sweep.entered.count, sweep.left.count)
    }
}
