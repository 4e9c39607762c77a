/// How a ``DurableStore`` writes, syncs and snapshots.
public struct StorageConfiguration: Sendable {
    /// When an appended record counts as durable, and so when its callback runs.
    public enum Durability: Sendable, Equatable {
        /// `fdatasync` before every acknowledgement. Records appended while a sync is in flight
        /// share the next one (group commit). Nothing acknowledged is lost, even on power loss.
        case always
        /// Acknowledge once the record is written to the operating system; `fdatasync` at most
        /// every `milliseconds`. A process crash loses nothing acknowledged; an operating-system
        /// crash or power loss can lose the acknowledged writes of the last `milliseconds`.
        case interval(milliseconds: Int)
    }

    /// When a record counts as durable. Default ``Durability/always``.
    public var durability: Durability = .always
    /// Size at which the log rolls over to a new segment file. Default 64 MiB.
    public var segmentBytes: Int = 64 << 20
    /// Zero-fill each log segment ahead of its records (a mebibyte at a time), so that a sync
    /// writes the records alone, not the file's size and block map with them (PostgreSQL's
    /// `wal_init_zero`). About halves a sync on ext4 and XFS; turn it off on copy-on-write file
    /// systems (ZFS, btrfs), where writing over zeros gains nothing. Default true.
    public var zeroFillSegments = true
    /// ``DurableStore/snapshotDue`` turns true after this many records since the last snapshot.
    /// Default 1,000,000.
    public var snapshotEveryRecords: Int = 1_000_000
    /// ``DurableStore/snapshotDue`` turns true after this many seconds since the last snapshot,
    /// if at least one record was appended. Default 300.
    public var snapshotEverySeconds: Int = 300
    /// zstd compression level for snapshots. Default 1 (fast; state compresses well anyway).
    public var compressionLevel: Int32 = 1
    /// Background threads compressing snapshots, so that encoding the state and compressing it
    /// overlap. Default 1; 0 compresses on the snapshotting thread.
    public var compressionWorkers: Int32 = 1
    /// Largest payload accepted by ``DurableStore/append(_:)-(UnsafeRawBufferPointer)``. Default 16 MiB.
    public var maxRecordBytes: Int = 16 << 20

    /// Bytes of appended records waiting for the committer above which writers are told to back
    /// off (``DurableStore/bufferedBytes`` says how many wait). Default 256 MiB.
    public var maxBufferedBytes: Int = 256 << 20

    /// Test hook that fails I/O calls and stops at crash points; `nil` in production.
    package var faultInjection: FaultInjection?

    /// Creates a configuration with the documented defaults.
    public init() {}

    /// Creates a configuration with the given durability and the other defaults.
    public init(durability: Durability) {
        self.durability = durability
    }
}
