import NIOCore

/// The buffer of the last batch of frames a connection handed to its channel, kept to gather the
/// next batch in. Once the channel has written and released it, clearing it reuses its memory
/// instead of allocating a buffer (an object and its bytes) per batch; while the channel still
/// holds it, clearing copies, as a new buffer would.
struct SpareBatchBuffer {
    private var buffer: ByteBuffer?
    /// Batches larger than this are not kept: a connection holds at most this much between batches.
    static let largestKept = 16 << 10

    /// Keeps `batch`, just handed to the channel, for the next batch.
    mutating func keep(_ batch: ByteBuffer) {
        buffer = batch.capacity <= Self.largestKept ? batch : nil
    }

    /// An empty buffer to gather a batch in: the kept one, cleared, or a new one.
    mutating func take(allocator: ByteBufferAllocator) -> ByteBuffer {
        guard var reused = buffer else { return allocator.buffer(capacity: 4096) }
        buffer = nil
        reused.clear()
        return reused
    }
}
