public import GrowthCore
public import Logging
public import RetainClock
import RetainProto
public import RetainState
public import ServiceLifecycle
import Synchronization

/// Decides the keep-up reviews that came due (docs/GROWTH.md#keep-up-and-downgrade): every
/// `interval` it plans them from the state (a read) and logs them like any other change, so
/// applying them (live, at replay and on replicas) moves users down and announces it. Does
/// nothing while the rules review no tier; replicated, only the shard's leader sweeps.
public final class LevelReviewSweeper: Service, Sendable {
    private let store = Mutex<StateStore<GrowthState>?>(nil)
    private let rules: GrowthRules
    private let notifier: LevelEventNotifier?
    private let interval: Duration
    private let clock: ServiceClock
    private let logger: Logger

    /// - Parameters:
    ///   - rules: the configuration file's rules (before any version is stored).
    ///   - notifier: woken with the new head after a sweep, so that WatchLevelChanges streams
    ///     send the downgrades at once.
    public init(
        rules: GrowthRules, notifier: LevelEventNotifier? = nil, interval: Duration, clock: ServiceClock = .system, logger: Logger
    ) {
        self.rules = rules
        self.notifier = notifier
        self.interval = interval
        self.clock = clock
        self.logger = logger
    }

    /// The store to sweep (set before the service group runs).
    public func attach(_ store: StateStore<GrowthState>) {
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
                if let count = try await Self.sweep(store, now: clock.now(), rules: rules) {
                    notifier?.advance(to: store.read { $0.headPosition })
                    logger.info("level reviews", metadata: ["reviews": "\(count)"])
                }
            } catch {
                logger.error("level review sweep failed: \(error)")
            }
        }
    }

    /// Plans and logs the reviews due at `now`, durably; how many, or nil when none was due.
    @discardableResult
    public static func sweep(_ store: StateStore<GrowthState>, now: Int64, rules: GrowthRules) async throws -> Int? {
        guard let entry = store.read({ $0.planLevelReviews(now: now, fallback: rules) }), let reviews = entry.levelReviews else {
            return nil
        }
        try await store.writeDurably { transaction in try transaction.log(entry) }
        return reviews.reviews.count
    }
}
