import Synchronization

/// What a replicating leader hears from its log: each batch as it is written (before its sync,
/// so replicas sync in parallel with the leader), and how far the log is durable after each sync.
///
/// The batch's bytes are log frames (see ``LogRecordFrame``) for sequences `first...last`, valid
/// only during the call. Both run on the committer thread and must be quick (copy, signal).
public struct ReplicationTaps: Sendable {
    /// A batch of framed records was written to the log (not yet synced).
    public var written: @Sendable (_ first: UInt64, _ last: UInt64, _ frames: UnsafeRawBufferPointer) -> Void
    /// Everything up to `sequence` is durable.
    public var durable: @Sendable (_ sequence: UInt64) -> Void

    public init(
        written: @escaping @Sendable (_ first: UInt64, _ last: UInt64, _ frames: UnsafeRawBufferPointer) -> Void,
        durable: @escaping @Sendable (_ sequence: UInt64) -> Void
    ) {
        self.written = written
        self.durable = durable
    }

    /// Calls `body` with each record framed in `frames`: its sequence and payload.
    public static func forEachRecord(
        in frames: UnsafeRawBufferPointer, _ body: (_ sequence: UInt64, _ payload: UnsafeRawBufferPointer) -> Void
    ) {
        var offset = 0
        let header = LogRecordFrame.headerSize
        while offset + header <= frames.count {
            let length = Int(frames.loadLittleEndian(at: offset, as: UInt32.self))
            let sequence = frames.loadLittleEndian(at: offset + 8, as: UInt64.self)
            let start = offset + header
            guard start + length <= frames.count else { return }
            body(sequence, UnsafeRawBufferPointer(rebasing: frames[start..<(start + length)]))
            offset = start + length
        }
    }
}

/// The taps a store hands its committer; read once per batch.
final class TapBox: Sendable {
    private let taps = Mutex<ReplicationTaps?>(nil)

    var current: ReplicationTaps? { taps.withLock { $0 } }

    func set(_ value: ReplicationTaps?) { taps.withLock { $0 = value } }
}
