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

    public init() {}

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
        return configuration
    }
}
