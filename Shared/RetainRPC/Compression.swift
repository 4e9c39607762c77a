import CZstd
public import NIOCore
public import RetainWire

/// zstd compression of message parts, flagged per frame with ``FrameFlags/compressed``.
public enum MessageCompression {
    /// Compresses `buffer`'s readable bytes into one zstd frame that declares its content size.
    public static func compress(_ buffer: ByteBuffer, level: Int32 = 1, allocator: ByteBufferAllocator) -> ByteBuffer {
        let bound = ZSTD_compressBound(buffer.readableBytes)
        var out = allocator.buffer(capacity: bound)
        buffer.withUnsafeReadableBytes { source in
            _ = out.writeWithUnsafeMutableBytes(minimumWritableBytes: bound) { target in
                let written = ZSTD_compress(target.baseAddress, target.count, source.baseAddress, source.count, level)
                precondition(ZSTD_isError(written) == 0, "zstd compression failed")
                return written
            }
        }
        return out
    }

    /// Decompresses one zstd frame, refusing output larger than `maximumSize` before allocating it.
    public static func decompress(_ buffer: ByteBuffer, maximumSize: Int, allocator: ByteBufferAllocator) throws(RPCError) -> ByteBuffer {
        try buffer.withUnsafeReadableBytes { source throws(RPCError) -> ByteBuffer in
            let size = ZSTD_getFrameContentSize(source.baseAddress, source.count)
            if size == ZSTD_CONTENTSIZE_ERROR {
                throw RPCError(.invalidArgument, "compressed message is not a zstd frame")
            }
            if size == ZSTD_CONTENTSIZE_UNKNOWN {
                throw RPCError(.invalidArgument, "compressed message must declare its content size")
            }
            guard size <= UInt64(maximumSize) else {
                throw RPCError(.resourceExhausted, "decompressed message of \(size) bytes exceeds the maximum of \(maximumSize)")
            }
            var out = allocator.buffer(capacity: Int(size))
            var failed = false
            out.writeWithUnsafeMutableBytes(minimumWritableBytes: Int(size)) { target in
                let written = ZSTD_decompress(target.baseAddress, Int(size), source.baseAddress, source.count)
                if ZSTD_isError(written) != 0 || written != Int(size) {
                    failed = true
                    return 0
                }
                return written
            }
            if failed { throw RPCError(.invalidArgument, "corrupt zstd frame in compressed message") }
            return out
        }
    }

    /// Compresses the message part of the complete frame that starts at `frameStart` in
    /// `buffer` (the frame ending at the writer index) when it is at least `threshold` bytes and
    /// compression makes it smaller; updates the length and sets the COMPRESSED flag.
    static func compressFrame(
        in buffer: inout ByteBuffer, frameStart: Int, messageStart: Int, threshold: Int,
        allocator: ByteBufferAllocator
    ) {
        let length = buffer.writerIndex - messageStart
        guard length >= threshold, let plain = buffer.getSlice(at: messageStart, length: length) else { return }
        let packed = compress(plain, allocator: allocator)
        guard packed.readableBytes < length else { return }
        buffer.moveWriterIndex(to: messageStart)
        buffer.writeImmutableBuffer(packed)
        buffer.setInteger(UInt32(buffer.writerIndex - frameStart - Frame.headerSize), at: frameStart)
        let flagsIndex = frameStart + 6
        let flags = buffer.getInteger(at: flagsIndex, as: UInt8.self) ?? 0
        buffer.setInteger(flags | FrameFlags.compressed.rawValue, at: flagsIndex)
    }
}
