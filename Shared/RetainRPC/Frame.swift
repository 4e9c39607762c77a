public import NIOCore
public import RetainWire

/// One unit of the Retain wire protocol: a ``FrameHeader`` (RetainWire, where the 12 bytes are
/// drawn) and the payload it announces, held in a `ByteBuffer`.
///
/// `docs/PROTOCOL.md` is the full specification.
public struct Frame: Sendable, Equatable {
    /// The size of the fixed header.
    public static let headerSize = FrameHeader.size
    /// The only protocol version this build speaks.
    public static let version = FrameHeader.version

    /// What the frame carries.
    public var type: FrameType
    /// Per-frame flags.
    public var flags: FrameFlags
    /// The call the frame belongs to; 0 for connection frames (PING, PONG, GOAWAY).
    public var requestID: UInt32
    /// The frame's payload.
    public var payload: ByteBuffer

    public init(type: FrameType, flags: FrameFlags = [], requestID: UInt32, payload: ByteBuffer) {
        self.type = type
        self.flags = flags
        self.requestID = requestID
        self.payload = payload
    }
}

extension Frame {
    /// Stores a 12-byte frame header at the start of `target` (at least that long), as two
    /// big-endian words.
    @inlinable
    static func storeHeader(
        type: FrameType, flags: FrameFlags, requestID: UInt32, payloadLength: Int, at target: UnsafeMutableRawBufferPointer
    ) {
        let word =
            UInt64(UInt32(payloadLength)) << 32 | UInt64(Frame.version) << 24 | UInt64(type.rawValue) << 16
            | UInt64(flags.rawValue) << 8
        target.storeBytes(of: word.bigEndian, toByteOffset: 0, as: UInt64.self)
        target.storeBytes(of: requestID.bigEndian, toByteOffset: 8, as: UInt32.self)
    }
}

extension ByteBuffer {
    /// Writes a frame header followed by the payload's readable bytes.
    @inlinable
    public mutating func writeFrame(_ frame: Frame) {
        writeFrameHeader(
            type: frame.type, flags: frame.flags, requestID: frame.requestID,
            payloadLength: frame.payload.readableBytes)
        writeImmutableBuffer(frame.payload)
    }

    /// Writes a 12-byte frame header.
    ///
    /// The header is stored as two big-endian words in one write: writing its six fields one by
    /// one costs six capacity checks and copies, a measurable share of a small call.
    @inlinable
    public mutating func writeFrameHeader(type: FrameType, flags: FrameFlags, requestID: UInt32, payloadLength: Int) {
        writeWithUnsafeMutableBytes(minimumWritableBytes: Frame.headerSize) { target in
            Frame.storeHeader(type: type, flags: flags, requestID: requestID, payloadLength: payloadLength, at: target)
            return Frame.headerSize
        }
    }

    /// Sets the payload length of the frame whose header starts at `frameStart` (an index in
    /// the readable bytes) to the bytes written after its header.
    @inlinable
    public mutating func setFramePayloadLength(frameStart: Int) {
        let length = UInt32(writerIndex - frameStart - Frame.headerSize)
        let offset = frameStart - readerIndex
        withUnsafeMutableReadableBytes { bytes in
            bytes.storeBytes(of: length.bigEndian, toByteOffset: offset, as: UInt32.self)
        }
    }
}
