import Foundation
public import Logging
public import RetainState
public import ServiceLifecycle
import Synchronization

/// Takes a snapshot when graceful shutdown begins, so that the next start restores the snapshot
/// instead of replaying the log written since the last one. Runs before the server stops
/// (services shut down in reverse order), on a thread of its own; a failure is logged, never
/// fatal (the log still holds everything).
public final class SnapshotOnShutdown: Service, Sendable {
    private let target = Mutex<(any Snapshotting)?>(nil)
    private let logger: Logger

    public init(logger: Logger) {
        self.logger = logger
    }

    /// Sets what to snapshot (the store opens after the services are made).
    public func attach(_ store: any Snapshotting) {
        target.withLock { $0 = store }
    }

    public func run() async throws {
        do {
            try await gracefulShutdown()
        } catch {
            return
        }
        guard let store = target.withLock({ $0 }) else { return }
        let logger = logger
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            Thread.detachNewThread {
                let started = ContinuousClock.now
                do {
                    try store.takeSnapshot()
                    logger.notice("snapshot on shutdown written in \(ContinuousClock.now - started)")
                } catch {
                    logger.warning("snapshot on shutdown failed (the log keeps every change): \(error)")
                }
                continuation.resume()
            }
        }
    }
}
