import Foundation
public import Logging
public import ServiceLifecycle

/// Something whose snapshots a ``SnapshotScheduler`` takes.
public protocol Snapshotting: Sendable {
    /// Whether the snapshot policy says a snapshot is due.
    var snapshotDue: Bool { get }
    /// Takes a snapshot; blocks while it is written.
    func takeSnapshot() throws
}

extension StateStore: Snapshotting {
    public func takeSnapshot() throws { try snapshot() }
}

/// Takes snapshots in the background when the storage policy (records or seconds) says so, on
/// a thread of its own so the service keeps serving; runs until graceful shutdown.
public struct SnapshotScheduler: Service {
    private let target: any Snapshotting
    private let logger: Logger
    private let checkInterval: Duration

    public init(_ target: any Snapshotting, logger: Logger, checkInterval: Duration = .seconds(1)) {
        self.target = target
        self.logger = logger
        self.checkInterval = checkInterval
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully {
            try? await Task.sleep(for: checkInterval)
            guard target.snapshotDue else { continue }
            let target = target
            let logger = logger
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                Thread.detachNewThread {
                    do {
                        try target.takeSnapshot()
                    } catch {
                        logger.error("snapshot failed: \(error)")
                    }
                    continuation.resume()
                }
            }
        }
    }
}
