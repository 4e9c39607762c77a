public import RetainState
public import RetainStorage

/// What replication needs from a service's store, whatever its state type.
public protocol ReplicatedLog: Sendable {
    /// The last sequence applied (and appended).
    var lastSequence: UInt64 { get }
    /// How far the local log is durable.
    var durableSequence: UInt64 { get }
    /// The commit point and role; replication needs a store opened with `replicated: true`.
    var commitGate: CommitGate? { get }
    /// Hands written batches and durable points to the leader.
    func setReplicationTaps(_ taps: ReplicationTaps?)
    /// Reads the local log after `sequence`; nil when it no longer holds it.
    func logCursor(after sequence: UInt64) throws -> LogCursor?
    /// Applies and appends records received from the leader (log frames).
    @discardableResult func applyReplicated(firstSequence: UInt64, frames: [UInt8]) throws -> UInt64
    /// Cuts the log after `sequence` and rebuilds the state.
    func rebuild(keepingThrough sequence: UInt64) throws
    /// The newest snapshot file and what it covers.
    func newestSnapshot() throws -> (path: String, coveredSequence: UInt64)?
    /// Where a leader's snapshot is downloaded to.
    var incomingSnapshotPath: String? { get }
    /// Replaces the data with the downloaded snapshot and rebuilds the state.
    func installSnapshot(covering sequence: UInt64) throws
}

extension StateStore: ReplicatedLog {}
