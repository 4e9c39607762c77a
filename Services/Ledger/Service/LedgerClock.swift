import Foundation

/// Where the ledger's service layer reads the time: the system clock, or a fixed or moving time
/// in tests. The domain never reads a clock; every entry carries the time it was made.
public struct LedgerClock: Sendable {
    /// The current time, Unix ms.
    public let now: @Sendable () -> Int64

    public init(now: @escaping @Sendable () -> Int64) {
        self.now = now
    }

    /// The system's wall clock.
    public static let system = LedgerClock { Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)) }
}
