public import LedgerCore
public import Logging
public import RetainClock
import RetainProto
public import RetainState
public import ServiceLifecycle
import Synchronization

/// Times out holds and expires lots as the ledger's clock passes their times: every
/// `sweepIntervalMs` it checks (a read) and, when something is due, logs an entry like any
/// other change, so replay reproduces exactly what it did.
public final class LedgerSweeper: Service, Sendable {
    private let store = Mutex<StateStore<LedgerState>?>(nil)
    private let configuration: LedgerConfiguration
    private let clock: ServiceClock
    private let logger: Logger

    public init(configuration: LedgerConfiguration, clock: ServiceClock = .system, logger: Logger) {
        self.configuration = configuration
        self.clock = clock
        self.logger = logger
    }

    /// The store to sweep (set before the service group runs).
    public func attach(_ store: StateStore<LedgerState>) {
        self.store.withLock { $0 = store }
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully {
            try? await Task.sleep(for: .milliseconds(configuration.sweepIntervalMs))
            guard let store = store.withLock({ $0 }) else { continue }
            // Replicated: only the shard's leader sweeps; replicas get its changes through the log.
            if let gate = store.commitGate, gate.writeRefusal() != nil { continue }
            do {
                let (holds, lots) = try await Self.sweep(store, now: clock.now(), expiryBatchLimit: configuration.expiryBatchLimit)
                if holds + Int(lots) > 0 {
                    logger.info("ledger sweep", metadata: ["holds_timed_out": "\(holds)", "lots_expired": "\(lots)"])
                }
            } catch {
                logger.error("ledger sweep failed: \(error)")
            }
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
