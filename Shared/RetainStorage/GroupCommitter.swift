import Logging

/// The loop of the committer thread: take everything appended since the last round, write it
/// with one `write`, make it durable with one `fdatasync` (`always`) or on the interval's clock,
/// then complete the callbacks in sequence order.
///
/// Appenders that arrive while a sync is in flight land in the next batch, so concurrent writers
/// share syncs: the batch size grows with the load, the sync rate stays bounded by the disk.
/// After a sync that acknowledged several writers, the committer lingers briefly (until as many
/// records are buffered, at most a quarter of a sync and never over 200 µs) so that those writers'
/// next records join the coming batch; without it, closed-loop writers split into two cohorts
/// that alternate between syncs, each waiting for two.
final class GroupCommitter: Sendable {
    private let queue: CommitQueue
    private let writer: SegmentWriter
    private let durability: StorageConfiguration.Durability
    private let logger: Logger
    private let taps: TapBox

    /// The longest the committer waits for acknowledged writers to append again (200 µs).
    static let maximumLinger: UInt64 = 200_000

    init(
        queue: CommitQueue, writer: SegmentWriter, durability: StorageConfiguration.Durability, logger: Logger,
        taps: TapBox
    ) {
        self.queue = queue
        self.taps = taps
        self.writer = writer
        self.durability = durability
        self.logger = logger
    }

    /// Runs until the store closes or an I/O error puts it in the failed state.
    func run() {
        var spare = RecordBuffer(capacity: 1 << 20)
        let interval: UInt64? =
            switch durability {
            case .always: nil
            case .interval(let milliseconds): UInt64(max(milliseconds, 0)) * 1_000_000
            }
        var lastSync = monotonicNanoseconds()
        var syncPending = false
        // Smoothed duration of an `fdatasync`: waiting for a cohort takes at most a quarter of it.
        var syncNanoseconds: UInt64 = 200_000
        var linger: (minimumRecords: Int, deadline: UInt64)?
        do throws(StorageError) {
            while true {
                if let interval, syncPending, monotonicNanoseconds() >= lastSync + interval {
                    try writer.sync()
                    queue.countSync()
                    syncPending = false
                    lastSync = monotonicNanoseconds()
                }
                let work = queue.takeWork(swapping: &spare, linger: linger)
                linger = nil
                switch work {
                case .batch(let first, let last):
                    let records = spare.records
                    let bytes = spare.count
                    let taps = taps.current
                    try spare.withBytes { (batch) throws(StorageError) in
                        try writer.write(batch, batchFirstSequence: first)
                        // Replicas get the batch now and sync it while this thread syncs.
                        taps?.written(first, last, batch)
                    }
                    var synced = false
                    if let interval {
                        let now = monotonicNanoseconds()
                        if now >= lastSync + interval {
                            try writer.sync()
                            synced = true
                            syncPending = false
                            lastSync = now
                        } else {
                            syncPending = true
                        }
                    } else {
                        let started = monotonicNanoseconds()
                        try writer.sync()
                        let elapsed = monotonicNanoseconds() &- started
                        syncNanoseconds = (syncNanoseconds * 7 + elapsed) / 8
                        synced = true
                    }
                    writer.markAcknowledged()
                    spare.reset(keepingCapacity: 4 << 20)
                    taps?.durable(last)
                    let acknowledged = queue.complete(through: last, records: records, bytes: bytes, synced: synced)
                    if interval == nil, acknowledged > 1 {
                        // Give the writers just acknowledged a moment (a fraction of a sync) to
                        // append again, so they join the next batch rather than the one after.
                        let wait = min(syncNanoseconds / 4, Self.maximumLinger)
                        linger = (acknowledged, monotonicNanoseconds() + wait)
                    }
                case .linger(let deadline):
                    queue.wakeup.wait(untilNanoseconds: deadline)
                case .idle:
                    if let interval, syncPending {
                        queue.wakeup.wait(untilNanoseconds: lastSync + interval)
                    } else {
                        queue.wakeup.wait()
                    }
                case .exit:
                    if syncPending {
                        try writer.sync()
                        queue.countSync()
                    }
                    writer.close()
                    return
                }
            }
        } catch {
            // Cut the segment back to what callers were told is durable, so that the disk holds
            // exactly the acknowledged records and the failed ones are known not to be written.
            var discarded = true
            do throws(StorageError) {
                try writer.discardUnacknowledged()
            } catch let cutError {
                discarded = false
                logger.critical(
                    "Could not cut the unacknowledged records off the log; their outcome is unknown",
                    metadata: ["error": "\(cutError)"])
            }
            logger.error(
                "Log write failed; the store refuses writes until it is recovered",
                metadata: ["error": "\(error)", "unacknowledged_discarded": "\(discarded)"])
            queue.fail(error, discarded: discarded)
            writer.close()
        }
    }
}
