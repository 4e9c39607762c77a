import Glibc
import Synchronization

/// A test hook that makes chosen I/O calls fail and stops a snapshot at a chosen crash point.
///
/// Production code never sets one; the file layer asks it before each `write` and sync, and the
/// snapshot writer asks it at each point where a crash leaves a distinct state on disk.
package final class FaultInjection: Sendable {
    /// An I/O call that can be made to fail.
    package enum Operation: Sendable, Hashable {
        case write
        case sync
        /// Zero-filling a log segment ahead of its records (``SegmentWriter``).
        case preallocate
    }

    /// A point in a multi-step update where a simulated crash stops the work.
    package enum CrashPoint: Sendable, Hashable {
        /// Snapshot body written and synced under its temporary name, not yet renamed.
        case snapshotBeforeRename
        /// Snapshot renamed and the directory synced; older files not yet removed.
        case snapshotAfterRename
        /// Older snapshots removed; covered log segments not yet removed.
        case snapshotAfterRemovingSnapshots
        /// New log segment written under its temporary name, not yet renamed.
        case segmentBeforeRename
    }

    /// The error a crash point throws: the caller must not clean up, as a crashed process would not.
    package struct SimulatedCrash: Error, Equatable {
        /// Where the work stopped.
        package let point: CrashPoint

        /// A crash at `point`.
        package init(point: CrashPoint) {
            self.point = point
        }
    }

    /// An armed failure for one operation.
    package struct Failure: Sendable {
        /// The `errno` to report.
        package var code: Int32
        /// How many more calls fail.
        package var remaining: Int
        /// Only calls on paths containing this fail (all paths when `nil`).
        package var pathContains: String?
        /// For writes: bytes actually written before the failure (a short write, then the error).
        package var writtenPrefix: Int
    }

    private struct State {
        var writeDelayMicroseconds: UInt32 = 0
        var failures: [Operation: Failure] = [:]
        var crashPoints: Set<CrashPoint> = []
        var callCounts: [Operation: Int] = [:]
    }

    private let state = Mutex(State())

    /// Creates a hook with nothing armed.
    package init() {}

    /// Makes the next `times` calls of `operation` fail with `code`.
    package func fail(
        _ operation: Operation, errno code: Int32, times: Int = 1, pathContains: String? = nil,
        writtenPrefix: Int = 0
    ) {
        state.withLock {
            $0.failures[operation] = Failure(
                code: code, remaining: times, pathContains: pathContains, writtenPrefix: writtenPrefix)
        }
    }

    /// Makes every log write wait `milliseconds` before it reaches the file: widens the window
    /// between a change being applied in memory and it being durable (a SIGKILL in it loses the
    /// change), for tests of what callers may see in that window.
    package func delayWrites(milliseconds: Int) {
        state.withLock { $0.writeDelayMicroseconds = UInt32(max(0, min(milliseconds, 10_000)) * 1000) }
    }

    /// The environment variable that makes a service's storage delay every write (tests only).
    package static let writeDelayVariable = "RETAIN_FAULT_WRITE_DELAY_MS"

    /// A hook for a service process from its environment: `RETAIN_FAULT_WRITE_DELAY_MS=<ms>`
    /// delays every write. Nil when the variable is unset, as in production.
    package static func fromEnvironment() -> FaultInjection? {
        guard let text = getenv(writeDelayVariable), let milliseconds = Int(String(cString: text)), milliseconds > 0 else {
            return nil
        }
        let faults = FaultInjection()
        faults.delayWrites(milliseconds: milliseconds)
        return faults
    }

    /// Arms `point`: the next time the work reaches it, it throws ``SimulatedCrash``.
    package func crash(at point: CrashPoint) {
        _ = state.withLock { $0.crashPoints.insert(point) }
    }

    /// How many times `operation` was attempted.
    package func calls(_ operation: Operation) -> Int {
        state.withLock { $0.callCounts[operation, default: 0] }
    }

    /// The failure to inject into this call, if one is armed for it.
    func injectedFailure(_ operation: Operation, path: String) -> Failure? {
        let delay = state.withLock { $0.writeDelayMicroseconds }
        if operation == .write, delay > 0 { usleep(delay) }
        return state.withLock { state in
            state.callCounts[operation, default: 0] += 1
            guard var failure = state.failures[operation], failure.remaining > 0 else { return nil }
            if let fragment = failure.pathContains, !path.contains(fragment) { return nil }
            failure.remaining -= 1
            state.failures[operation] = failure
            return failure
        }
    }

    /// Throws ``SimulatedCrash`` if `point` is armed (and disarms it).
    func check(_ point: CrashPoint) throws(SimulatedCrash) {
        let armed = state.withLock { $0.crashPoints.remove(point) != nil }
        if armed { throw SimulatedCrash(point: point) }
    }
}
