import NIOCore
import RetainWire

/// Splits the bytes a connection reads into frames, inside the connection's own handler.
///
/// Decoding in the handler that serves the frames (rather than in a separate
/// `ByteToMessageHandler`) saves boxing each frame into `NIOAny` and casting it back, a
/// measurable share of a small call's cost. The checks are ``FrameDecoder``'s, plus two of the
/// connection's own:
///
/// - **Admission before buffering.** Until the connection is admitted (a call carried a valid
///   credential), a frame may declare at most `unadmittedPayloadSize` bytes. A REQUEST declaring
///   more is held only until its call header has arrived (which must fit in that limit); the
///   header's credential is checked then, and the body is buffered only if it admits the
///   connection. So an anonymous peer can make the server hold at most that much per connection.
/// - **Back pressure.** Before each frame is handed on, `shouldPause` may say stop (the peer
///   does not read its answers): the rest stays buffered, unread, until ``read(_:shouldPause:admission:_:)``
///   is called again.
struct FrameReader {
    /// How the reader learns and changes whether the connection is admitted.
    struct Admission {
        /// Whether the connection has presented a valid credential.
        var isAdmitted: () -> Bool
        /// Checks the call header (its bytes) of a large first REQUEST; true admits.
        var admit: (ByteBuffer) -> Bool
    }

    private var decoder: FrameDecoder
    private var pending: ByteBuffer?
    /// The largest payload a frame may declare before the connection is admitted.
    let unadmittedPayloadSize: Int

    init(maximumPayloadSize: Int, unadmittedPayloadSize: Int) {
        decoder = FrameDecoder(maximumPayloadSize: maximumPayloadSize)
        self.unadmittedPayloadSize = min(unadmittedPayloadSize, maximumPayloadSize)
    }

    /// A reader with no admission limit (the client side).
    init(maximumPayloadSize: Int) {
        self.init(maximumPayloadSize: maximumPayloadSize, unadmittedPayloadSize: maximumPayloadSize)
    }

    /// Appends `bytes` and hands every complete frame to `body`, never pausing (the client side).
    mutating func read(_ bytes: ByteBuffer, _ body: (Frame) -> Void) throws(FrameError) {
        try read(bytes, shouldPause: { false }, admission: nil, body)
    }

    /// Bytes of an incomplete (or held back) frame, kept until more arrive or reading resumes.
    var bufferedBytes: Int { pending?.readableBytes ?? 0 }

    /// Appends `bytes` and hands every complete frame to `body`, in order, until `shouldPause`
    /// says stop. Returns true when it paused with frames left. Throws ``FrameError`` for an
    /// invalid header or an unadmitted frame; frames before it have been handed over.
    @discardableResult
    mutating func read(
        _ bytes: ByteBuffer, shouldPause: () -> Bool, admission: Admission?,
        _ body: (Frame) -> Void
    ) throws(FrameError) -> Bool {
        var buffer: ByteBuffer
        if var existing = pending {
            pending = nil
            var incoming = bytes
            existing.writeBuffer(&incoming)
            buffer = existing
        } else {
            buffer = bytes
        }
        var paused = false
        do {
            while true {
                if let admission, !admission.isAdmitted(), try !admit(&buffer, admission) { break }
                if buffer.readableBytes >= Frame.headerSize, shouldPause() {
                    paused = true
                    break
                }
                guard let frame = try decoder.decode(buffer: &buffer) else { break }
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
        return paused
    }

    /// Checks the next frame of an unadmitted connection: true when it may be decoded (it is
    /// small, or its header admitted the connection), false to wait for more bytes.
    private func admit(_ buffer: inout ByteBuffer, _ admission: Admission) throws(FrameError) -> Bool {
        let start = buffer.readerIndex
        guard let length = buffer.getInteger(at: start, as: UInt32.self),
            let type = buffer.getInteger(at: start + 5, as: UInt8.self)
        else { return true }
        guard Int(length) > unadmittedPayloadSize else { return true }
        guard type == FrameType.request.rawValue else {
            throw .unadmitted(length: length, maximum: unadmittedPayloadSize)
        }
        // REQUEST payload: uint32 header length, CallHeader, message.
        guard let headerLength = buffer.getInteger(at: start + Frame.headerSize, as: UInt32.self) else { return false }
        guard Int(headerLength) + 4 <= unadmittedPayloadSize else {
            throw .unadmitted(length: length, maximum: unadmittedPayloadSize)
        }
        guard buffer.readableBytes >= Frame.headerSize + 4 + Int(headerLength) else { return false }
        let header = buffer.getSlice(at: start + Frame.headerSize + 4, length: Int(headerLength))!
        guard admission.admit(header) else { throw .unadmitted(length: length, maximum: unadmittedPayloadSize) }
        return true
    }
}
