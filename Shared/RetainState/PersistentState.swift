public import RetainProto

/// A service's in-memory state that a ``StateStore`` keeps durable.
///
/// Every change is a ``LogEntry`` applied by ``apply(_:)``: live writes and recovery run the same
/// code, so the state after a restart is the state before it. Everything not deterministic (the
/// time, generated ids) is decided before the entry is made and travels inside it.
public protocol PersistentState: Sendable {
    /// One change, written to the write-ahead log as a protobuf message.
    associatedtype LogEntry: ProtoMessage

    /// What applying a change live decided (results, refusals), returned to the writer; nothing
    /// for states whose answers read the state afterwards.
    associatedtype Outcome = Void

    /// An empty state.
    init()

    /// Applies one change. Must leave the state untouched when it throws, and must be
    /// deterministic: the same entries in the same order give the same state.
    mutating func apply(_ entry: LogEntry) throws

    /// Applies a change made live, before it is logged, and may complete the entry with what only
    /// applying it knows (a hash chain's head, numbers it hands out). The completed entry is the
    /// one logged, and the one ``apply(_:)`` sees at replay, where it must give the same state.
    /// Returns what applying it decided. The default applies the entry unchanged.
    mutating func apply(completing entry: inout LogEntry) throws -> Outcome

    /// Writes the whole state as a sequence of protobuf records.
    func writeSnapshot(to sink: inout SnapshotSink) throws

    /// Rebuilds the state from the records ``writeSnapshot(to:)`` wrote, read in the same order.
    mutating func restore(from source: inout SnapshotSource) throws
}

extension PersistentState where Outcome == Void {
    public mutating func apply(completing entry: inout LogEntry) throws {
        try apply(entry)
    }
}

/// Why a state could not be recovered.
public struct StateRecoveryError: Error, CustomStringConvertible {
    /// What went wrong, naming the record.
    public var description: String

    public init(_ description: String) { self.description = description }
}
