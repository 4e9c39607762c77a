public import NIOCore

/// One unit of the Retain wire protocol.
///
/// Every frame starts with a fixed 12-byte header, all integers big-endian:
///
/// ```
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +---------------------------------------------------------------+
/// |                 payload length (uint32, bytes)                |
/// +---------------+---------------+---------------+---------------+
/// |  version = 1  |     type      |     flags     |  reserved = 0 |
/// +---------------+---------------+---------------+---------------+
/// |                     request id (uint32)                       |
/// +---------------------------------------------------------------+
/// |                    payload (length bytes) ...                 |
/// ```
///
/// `docs/PROTOCOL.md` is the full specification.
public struct Frame: Sendable, Equatable {
    /// The size of the fixed header.
    public static let headerSize = 12
    /// The only protocol version this build speaks.
    public static let version: UInt8 = 1

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

/// The frame types of protocol version 1.
public struct FrameType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// Client to server: opens a call. Payload: uint32 header length, `CallHeader`, request message.
    public static let request = Self(rawValue: 1)
    /// Server to client: one answer message. With `END`, the call ended with OK.
    public static let message = Self(rawValue: 2)
    /// Server to client: ends a call with a `CallStatus`.
    public static let status = Self(rawValue: 3)
    /// Client to server: the caller gave up on the call. Empty payload.
    public static let cancel = Self(rawValue: 4)
    /// Either way: liveness probe with 8 opaque bytes; answered by PONG with the same bytes.
    public static let ping = Self(rawValue: 5)
    /// Either way: the answer to a PING.
    public static let pong = Self(rawValue: 6)
    /// Server to client: the server is draining or failing; payload is a `GoAway`.
    public static let goAway = Self(rawValue: 7)

    public var description: String {
        switch self {
        case .request: "REQUEST"
        case .message: "MESSAGE"
        case .status: "STATUS"
        case .cancel: "CANCEL"
        case .ping: "PING"
        case .pong: "PONG"
        case .goAway: "GOAWAY"
        default: "TYPE_\(rawValue)"
        }
    }

    /// Whether protocol version 1 defines this type.
    public var isKnown: Bool { (1...7).contains(rawValue) }
}

/// Per-frame flags.
public struct FrameFlags: OptionSet, Hashable, Sendable {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// The message part of the payload is one zstd frame.
    public static let compressed = Self(rawValue: 0x01)
    /// On MESSAGE: the last answer of the call, which ended with OK.
    public static let end = Self(rawValue: 0x02)

    /// Flags this build understands; others are a protocol error.
    public static let known: Self = [.compressed, .end]
}

extension ByteBuffer {
    /// Writes a frame header followed by the payload's readable bytes.
    @inlinable
    public mutating func writeFrame(_ frame: Frame) {
        writeFrameHeader(type: frame.type, flags: frame.flags, requestID: frame.requestID,
                         payloadLength: frame.payload.readableBytes)
        writeImmutableBuffer(frame.payload)
    }

    /// Writes a 12-byte frame header.
    ///
    /// The header is stored as two big-endian words in one write: writing its six fields one by
    /// one costs six capacity checks and copies, a measurable share of a small call.
    @inlinable
    public mutating func writeFrameHeader(type: FrameType, flags: FrameFlags, requestID: UInt32, payloadLength: Int) {
        let word = UInt64(UInt32(payloadLength)) << 32 | UInt64(Frame.version) << 24 | UInt64(type.rawValue) << 16
            | UInt64(flags.rawValue) << 8
        writeWithUnsafeMutableBytes(minimumWritableBytes: Frame.headerSize) { target in
            target.storeBytes(of: word.bigEndian, toByteOffset: 0, as: UInt64.self)
            target.storeBytes(of: requestID.bigEndian, toByteOffset: 8, as: UInt32.self)
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
