import NIOCore

/// The answers of one connection on their way out: those of the current read burst gathered in
/// one buffer and written together at its end, and when to flush, so that answers completed
/// together share one system call.
struct AnswerBatch {
    /// Answers of the current read burst, not yet handed to the channel.
    var pending: ByteBuffer?
    /// Whether the connection is inside a read burst (flushes wait for its end).
    private(set) var reading = false
    private var flushAtEndOfRead = false
    private var flushScheduled = false
    /// Gathered answers past which the connection stops serving frames.
    let maximumUnsentBytes: Int

    init(maximumUnsentBytes: Int) {
        self.maximumUnsentBytes = maximumUnsentBytes
    }

    /// Whether the gathered answers reached the unsent-bytes limit.
    var isFull: Bool { (pending?.readableBytes ?? 0) >= maximumUnsentBytes }

    mutating func beginRead() { reading = true }

    /// Ends a read burst; true when a write during it asked for a flush.
    mutating func endRead() -> Bool {
        reading = false
        defer { flushAtEndOfRead = false }
        return flushAtEndOfRead
    }

    /// The last batch's buffer, to gather the next one in.
    private var spare = SpareBatchBuffer()

    /// Takes the gathered answers, to write them ahead of anything else.
    mutating func take() -> ByteBuffer? {
        defer { pending = nil }
        return pending
    }

    /// Takes the gathered answers to append to, or an empty buffer to start a batch in.
    mutating func takeForAppending(allocator: ByteBufferAllocator) -> ByteBuffer {
        take() ?? spare.take(allocator: allocator)
    }

    /// Notes a batch handed to the channel, to reuse its memory for the next one.
    mutating func handedOver(_ batch: ByteBuffer) {
        spare.keep(batch)
    }

    /// Notes a write; true when the caller must schedule a flush at the end of this event loop
    /// tick (outside a read burst, and none is scheduled yet).
    mutating func wrote() -> Bool {
        if reading {
            flushAtEndOfRead = true
            return false
        }
        guard !flushScheduled else { return false }
        flushScheduled = true
        return true
    }

    /// The scheduled flush runs.
    mutating func scheduledFlushRan() { flushScheduled = false }
}
