public import GrowthCore
public import Logging
public import RetainClock
import RetainProto
public import RetainServiceKit
public import RetainState

/// Decides the keep-up reviews that came due (docs/GROWTH.md#keep-up-and-downgrade): every
/// `interval` it plans them from the state (a read) and logs them like any other change, so
/// applying them (live, at replay and on replicas) moves users down and announces it. Does
/// nothing while the rules review no tier; replicated, only the shard's leader sweeps
/// (``LeaderSweep``).
public enum LevelReviewSweeper {
    /// The service that sweeps every `interval`.
    ///
    /// - Parameters:
    ///   - rules: the configuration file's rules (before any version is stored).
    ///   - notifier: woken with the new head after a sweep, so that WatchLevelChanges streams
    ///     send the downgrades at once.
    public static func service(
        rules: GrowthRules, notifier: LevelEventNotifier? = nil, interval: Duration, clock: ServiceClock = .system, logger: Logger
    ) -> LeaderSweep<GrowthState> {
        LeaderSweep(name: "level reviews", interval: interval, clock: clock, logger: logger) { store, now in
            guard let count = try await sweep(store, now: now, rules: rules) else { return nil }
            notifier?.advance(to: store.read { $0.headPosition })
            return ["reviews": "\(count)"]
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
