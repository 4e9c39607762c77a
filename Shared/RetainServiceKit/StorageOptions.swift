public import ArgumentParser
public import RetainStorage

/// Flags for a service's durability and snapshot policy.
public struct StorageOptions: ParsableArguments, Sendable {
    /// `always` (fsync before every answer, group commit) or `interval:<ms>`.
    @Option(help: "always (fsync before answering, with group commit) or interval:<ms>.")
    public var durability: String = "always"

    /// Take a snapshot after this many log records.
    @Option(name: .customLong("snapshot-every-records"), help: "Take a snapshot after this many log records.")
    public var snapshotEveryRecords: Int = 1_000_000

    /// Take a snapshot after this many seconds with changes.
    @Option(name: .customLong("snapshot-every-seconds"), help: "Take a snapshot after this many seconds with changes.")
    public var snapshotEverySeconds: Int = 300

    /// Background threads compressing snapshots (0: on the snapshotting thread).
    @Option(name: .customLong("snapshot-workers"), help: "Background threads compressing snapshots (0: inline).")
    public var snapshotWorkers: Int32 = 1

    /// Largest log record (one change) the store accepts.
    @Option(
        name: .customLong("max-record-bytes"),
        help: "Largest log record (one change) accepted, in bytes; at least twice --max-frame-bytes.")
    public var maximumRecordBytes: Int = 16 << 20

    /// Size at which the log rolls over to a new segment file (old segments are removed once
    /// snapshots cover them).
    @Option(name: .customLong("segment-bytes"), help: "Log segment size in bytes (default 64 MiB).")
    public var segmentBytes: Int = 64 << 20

    /// Zero-fill log segments ahead of their records (off on copy-on-write file systems).
    @Option(
        name: .customLong("wal-zero-fill"),
        help: "Zero-fill log segments ahead of their records, so a sync writes the records alone: on or off (off on ZFS, btrfs).")
    public var walZeroFill: String = "on"

    /// Replication of the log to the shard's other processes.
    @OptionGroup(title: "Replication") public var replication: ReplicationOptions

    public init() {}

    /// Checks the storage's record limit against the largest request a client may send: a
    /// request becomes one log record, a little larger than itself (times, ids, hash chain), so
    /// the record limit must be at least twice the frame limit. Refusing this at start keeps a
    /// large request from ever reaching a change the log cannot hold.
    public func check(maximumFrameBytes: Int) throws {
        guard maximumRecordBytes >= 2 * maximumFrameBytes else {
            throw ValidationError(
                "--max-frame-bytes \(maximumFrameBytes) is too large for --max-record-bytes \(maximumRecordBytes): "
                    + "a request becomes one log record, so the record limit must be at least twice the frame limit "
                    + "(raise --max-record-bytes up to 1073741824, or lower --max-frame-bytes)")
        }
    }

    /// The storage configuration these flags describe.
    public func configuration() throws -> StorageConfiguration {
        var configuration = StorageConfiguration()
        if durability == "always" {
            configuration.durability = .always
        } else if durability.hasPrefix("interval:"), let ms = Int(durability.dropFirst("interval:".count)), ms > 0 {
            configuration.durability = .interval(milliseconds: ms)
        } else {
            throw ValidationError("--durability must be 'always' or 'interval:<milliseconds>', not '\(durability)'")
        }
        configuration.snapshotEveryRecords = snapshotEveryRecords
        configuration.snapshotEverySeconds = snapshotEverySeconds
        guard (0...8).contains(snapshotWorkers) else {
            throw ValidationError("--snapshot-workers must be between 0 and 8, not \(snapshotWorkers)")
        }
        configuration.compressionWorkers = snapshotWorkers
        guard maximumRecordBytes > 0, maximumRecordBytes <= 1 << 30 else {
            throw ValidationError("--max-record-bytes must be between 1 and 1073741824, not \(maximumRecordBytes)")
        }
        configuration.maxRecordBytes = maximumRecordBytes
        guard segmentBytes >= 4096 else {
            throw ValidationError("--segment-bytes must be at least 4096, not \(segmentBytes)")
        }
        configuration.segmentBytes = segmentBytes
        switch walZeroFill {
        case "on": configuration.zeroFillSegments = true
        case "off": configuration.zeroFillSegments = false
        default: throw ValidationError("--wal-zero-fill must be 'on' or 'off', not '\(walZeroFill)'")
        }
        configuration.faultInjection = FaultInjection.fromEnvironment()
        return configuration
    }
}
