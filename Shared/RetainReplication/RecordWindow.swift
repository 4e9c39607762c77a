import Synchronization
import RetainStorage

/// The leader's most recent log records in memory, as the committer wrote them, so that
/// replicas that keep up are fed without reading the disk. Older records come from the log files.
final class RecordWindow: Sendable {
    private struct Chunk {
        let first: UInt64
        var records: [[UInt8]]
        var bytes: Int
        var last: UInt64 { first + UInt64(records.count) - 1 }
    }

    private struct State {
        var chunks: [Chunk] = []
        var bytes = 0
        var last: UInt64 = 0
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
    }

    private let state = Mutex(State())
    private let capacity: Int
    private let nextWaiter = Atomic<Int>(0)

    init(capacity: Int) {
        self.capacity = capacity
    }

    /// The last sequence written (0 before any in this window).
    var lastSequence: UInt64 { state.withLock { $0.last } }

    /// Starts empty after `sequence` (the log's end when leadership begins).
    func reset(after sequence: UInt64) {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.chunks = []
            state.bytes = 0
            state.last = sequence
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Adds a written batch (from the committer's tap) and wakes the senders.
    func append(first: UInt64, last: UInt64, frames: UnsafeRawBufferPointer) {
        var records: [[UInt8]] = []
        records.reserveCapacity(Int(last - first + 1))
        var bytes = 0
        ReplicationTaps.forEachRecord(in: frames) { _, payload in
            records.append([UInt8](payload))
            bytes += payload.count
        }
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            guard first == state.last + 1 else {
                // A gap (the window was reset mid-batch): start again from this batch.
                state.chunks = []
                state.bytes = 0
                state.chunks.append(Chunk(first: first, records: records, bytes: bytes))
                state.bytes = bytes
                state.last = last
                defer { state.waiters = [:] }
                return Array(state.waiters.values)
            }
            state.chunks.append(Chunk(first: first, records: records, bytes: bytes))
            state.bytes += bytes
            state.last = last
            while state.bytes > capacity, state.chunks.count > 1 {
                state.bytes -= state.chunks.removeFirst().bytes
            }
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// What the window holds from `sequence` on, up to about `maximumBytes`: `.records` (maybe
    /// empty when nothing after it is written yet), or `.older` when `sequence` is before the
    /// window (read it from the disk).
    enum Slice {
        case records([[UInt8]])
        case older
    }

    func records(from sequence: UInt64, maximumBytes: Int) -> Slice {
        state.withLock { state in
            if sequence > state.last { return .records([]) }
            guard let firstChunk = state.chunks.first, sequence >= firstChunk.first else { return .older }
            var out: [[UInt8]] = []
            var bytes = 0
            var next = sequence
            for chunk in state.chunks where chunk.last >= next {
                var index = Int(next - chunk.first)
                while index < chunk.records.count {
                    out.append(chunk.records[index])
                    bytes += chunk.records[index].count
                    index += 1
                    next += 1
                    if bytes >= maximumBytes { return .records(out) }
                }
            }
            return .records(out)
        }
    }

    /// Returns once a record after `sequence` is written, or after `timeout`.
    func waitForRecord(after sequence: UInt64, timeout: Duration) async {
        let id = nextWaiter.add(1, ordering: .relaxed).newValue
        let timer = Task { [self] in
            try? await Task.sleep(for: timeout)
            let waiter = state.withLock { state in state.waiters.removeValue(forKey: id) }
            waiter?.resume()
        }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let ready = state.withLock { state -> Bool in
                if state.last > sequence { return true }
                state.waiters[id] = continuation
                return false
            }
            if ready { continuation.resume() }
        }
        timer.cancel()
    }
}
