import Synchronization
import RetainStorage

/// The leader's most recent log records in memory, as the committer wrote them (log frames), so
/// that replicas that keep up are fed without reading the disk. Older records come from the log
/// files.
final class RecordWindow: Sendable {
    /// One written batch: its frames and where each record starts in them.
    private struct Chunk {
        let first: UInt64
        let frames: [UInt8]
        let starts: [Int]
        var last: UInt64 { first + UInt64(starts.count) - 1 }
    }

    private struct State {
        var chunks: [Chunk] = []
        var bytes = 0
        var last: UInt64 = 0
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
    }

    /// Frames for consecutive sequences from `first`.
    struct Frames {
        var first: UInt64
        var bytes: [UInt8] = []
        var count = 0
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

    /// Adds a written batch (from the committer's tap, copied once for the window and the live
    /// feeds) and wakes the senders.
    func append(first: UInt64, last: UInt64, frames: [UInt8]) {
        var starts: [Int] = []
        starts.reserveCapacity(Int(last - first + 1))
        frames.withUnsafeBytes { frames in
            let base = frames.baseAddress
            ReplicationTaps.forEachRecord(in: frames) { _, payload in
                starts.append(payload.baseAddress! - base! - 16)
            }
        }
        let chunk = Chunk(first: first, frames: frames, starts: starts)
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            if first != state.last + 1 {
                // A gap (the window was reset mid-batch): start again from this batch.
                state.chunks = []
                state.bytes = 0
            }
            state.chunks.append(chunk)
            state.bytes += chunk.frames.count
            state.last = last
            while state.bytes > capacity, state.chunks.count > 1 {
                state.bytes -= state.chunks.removeFirst().frames.count
            }
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// What the window holds from `sequence` on, up to about `maximumBytes`.
    enum Slice {
        /// Frames from `sequence` (none when nothing after it is written yet).
        case frames(Frames)
        /// `sequence` is before the window: read it from the disk.
        case older
    }

    func frames(from sequence: UInt64, maximumBytes: Int) -> Slice {
        state.withLock { state in
            var out = Frames(first: sequence)
            if sequence > state.last { return .frames(out) }
            guard let firstChunk = state.chunks.first, sequence >= firstChunk.first else { return .older }
            var next = sequence
            for chunk in state.chunks where chunk.last >= next {
                let index = Int(next - chunk.first)
                var end = chunk.starts.count
                var size = chunk.frames.count - chunk.starts[index]
                if out.bytes.count + size > maximumBytes, out.count > 0 { break }
                if out.bytes.count + size > maximumBytes {
                    // Take part of the chunk: the records up to the limit (at least one).
                    end = index + 1
                    while end < chunk.starts.count, chunk.starts[end] - chunk.starts[index] < maximumBytes { end += 1 }
                    size = (end < chunk.starts.count ? chunk.starts[end] : chunk.frames.count) - chunk.starts[index]
                }
                out.bytes.append(contentsOf: chunk.frames[chunk.starts[index]..<(chunk.starts[index] + size)])
                out.count += end - index
                next += UInt64(end - index)
                if out.bytes.count >= maximumBytes { break }
            }
            return .frames(out)
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
