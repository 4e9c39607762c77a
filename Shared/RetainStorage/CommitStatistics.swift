/// Counters kept by the group committer, for benchmarks and `inspect`-style reporting.
package struct CommitStatistics: Sendable, Equatable {
    /// Batches written (one `write` each).
    package var batches: UInt64 = 0
    /// Records written.
    package var records: UInt64 = 0
    /// Bytes written, framing included.
    package var bytes: UInt64 = 0
    /// `fdatasync` calls on the log.
    package var syncs: UInt64 = 0

    /// Records per batch on average.
    package var averageBatch: Double {
        batches == 0 ? 0 : Double(records) / Double(batches)
    }
}
