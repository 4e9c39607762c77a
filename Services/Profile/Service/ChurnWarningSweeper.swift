public import Logging
public import ProfileCore
public import RetainClock
import RetainProto
public import RetainServiceKit
public import RetainState

/// Finds the users who entered (or left) the churn-warning list: every `interval` it plans a
/// sweep from the state (a read) and logs it like any other change, so applying it (live, at
/// replay and on replicas) queues one `churn_warning` webhook per user per warning episode
/// (docs/WEBHOOKS.md). Does nothing while nobody subscribes to `churn_warning`; replicated,
/// only the shard's leader sweeps (``LeaderSweep``).
public enum ChurnWarningSweeper {
    /// The service that sweeps every `interval`, by the lifecycle thresholds in force (the
    /// configuration file's before any version is stored).
    public static func service(
        configuration: ProfileConfiguration, interval: Duration, clock: ServiceClock = .system, logger: Logger
    ) -> LeaderSweep<ProfileState> {
        let evaluator = LifecycleEvaluator(rules: configuration.lifecycle)
        return LeaderSweep(name: "churn-warning sweep", interval: interval, clock: clock, logger: logger) { store, now in
            try await sweep(store, now: now, evaluator: evaluator).map { ["entered": "\($0.entered)", "left": "\($0.left)"] }
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
