import NIOCore

/// Splits the bytes a connection reads into frames, inside the connection's own handler.
///
/// Decoding in the handler that serves the frames (rather than in a separate
/// `ByteToMessageHandler`) saves boxing each frame into `NIOAny` and casting it back, a
/// measurable share of a small call's cost. The checks are ``FrameDecoder``'s.
struct FrameReader {
    private var decoder: FrameDecoder
    private var pending: ByteBuffer?

    init(maximumPayloadSize: Int) {
        decoder = FrameDecoder(maximumPayloadSize: maximumPayloadSize)
    }

    /// Bytes of an incomplete frame held until more arrive.
    var bufferedBytes: Int { pending?.readableBytes ?? 0 }

    /// Appends `bytes` and hands every complete frame to `body`, in order. Throws
    /// ``FrameError`` for an invalid header; frames before it have been handed over.
    mutating func read(_ bytes: ByteBuffer, _ body: (Frame) -> Void) throws(FrameError) {
        var buffer: ByteBuffer
        if var existing = pending {
            pending = nil
            var incoming = bytes
            existing.writeBuffer(&incoming)
            buffer = existing
        } else {
            buffer = bytes
        }
        do {
            while let frame = try decoder.decode(buffer: &buffer) {
                body(frame)
            }
        } catch let error as FrameError {
            throw error
        } catch {
            fatalError("FrameDecoder throws only FrameError: \(error)")
        }
        if buffer.readableBytes > 0 {
            if buffer.readerIndex > 1 << 16 { buffer.discardReadBytes() }
            pending = buffer
        }
    }
}
