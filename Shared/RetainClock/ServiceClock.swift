#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where a service reads "now": the system's wall clock, or a fixed or moving time in tests.
///
/// The one clock every service's RPC layer is given (injected, never read from a global): the
/// domains never read a clock, so every decision and log entry carries the time the service
/// layer read here, and a test that moves this clock moves the whole service.
public struct ServiceClock: Sendable {
    /// The current time, Unix ms.
    public let now: @Sendable () -> Int64

    /// A clock that answers `now()`.
    public init(now: @escaping @Sendable () -> Int64) {
        self.now = now
    }

    /// The system's wall clock (`CLOCK_REALTIME`), truncated to milliseconds.
    public static let system = ServiceClock { WallClock.nowMs() }

    /// A clock that always answers `ms`.
    public static func fixed(_ ms: Int64) -> ServiceClock { ServiceClock { ms } }
}
