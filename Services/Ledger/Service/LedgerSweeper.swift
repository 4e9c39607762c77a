public import LedgerCore
public import Logging
public import RetainClock
import RetainProto
public import RetainState
public import RetainServiceKit

/// Times out holds and expires lots as the ledger's clock passes their times: every
/// `sweepIntervalMs` it checks (a read) and, when something is due, logs an entry like any
/// other change, so replay reproduces exactly what it did. Replicated, only the shard's leader
/// sweeps; replicas get its changes through the log (``LeaderSweep``).
public enum LedgerSweeper {
    /// The service that sweeps every `configuration.sweepIntervalMs`.
    public static func service(
        configuration: LedgerConfiguration, clock: ServiceClock = .system, logger: Logger
    ) -> LeaderSweep<LedgerState> {
        LeaderSweep(name: "ledger sweep", interval: .milliseconds(configuration.sweepIntervalMs), clock: clock, logger: logger) {
            store, now in
            let (holds, lots) = try await sweep(store, now: now, expiryBatchLimit: configuration.expiryBatchLimit)
            guard holds + Int(lots) > 0 else { return nil }
            return ["holds_timed_out": "\(holds)", "lots_expired": "\(lots)"]
        }
    }

    /// Times out due holds and expires due lots at `now`, durably; returns how many of each.
    public static func sweep(
        _ store: StateStore<LedgerState>, now: Int64, expiryBatchLimit: UInt32 = 10_000
    )
        async throws -> (holds: Int, lots: UInt64)
    {
        let (holdsDue, lotsDue) = store.read { ($0.holdsDue(at: now), $0.lotsDue(at: now)) }
        var holds = 0
        var lots: UInt64 = 0
        if holdsDue {
            holds = try await store.writeDurably { transaction in
                let at = max(now, transaction.state.lastAtMs)
                return try transaction.log(Retain_V1_LedgerEntry(kind: .timeOutHolds, atMs: at, asOfMs: at)).timedOutHolds
            }
        }
        var more = lotsDue
        while more {
            let (expired, again) = try await store.writeDurably { transaction in
                let at = max(now, transaction.state.lastAtMs)
                let outcome = try transaction.log(
                    Retain_V1_LedgerEntry(
                        kind: .expireLots, atMs: at, expireLots: Retain_V1_ExpireLotsRequest(asOfMs: now, limit: expiryBatchLimit)))
                return (outcome.expiredLots, outcome.more)
            }
            lots += expired
            more = again
        }
        return (holds, lots)
    }
}
