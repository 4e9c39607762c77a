/// The fixed 12-byte header that starts every frame of the Retain wire protocol, all integers
/// big-endian:
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
public struct FrameHeader: Hashable, Sendable {
    /// The size of the header, in bytes.
    public static let size = 12
    /// The only protocol version this build speaks.
    public static let version: UInt8 = 1

    /// The size of the payload that follows, in bytes.
    public var payloadLength: UInt32
    /// What the frame carries.
    public var type: FrameType
    /// Per-frame flags.
    public var flags: FrameFlags
    /// The call the frame belongs to; 0 for connection frames (PING, PONG, GOAWAY).
    public var requestID: UInt32

    /// A header announcing `payloadLength` bytes of `type` for call `requestID`.
    public init(type: FrameType, flags: FrameFlags = [], requestID: UInt32, payloadLength: UInt32) {
        self.type = type
        self.flags = flags
        self.requestID = requestID
        self.payloadLength = payloadLength
    }

    /// Checks the fields of a received header against protocol version 1 and the largest payload
    /// accepted, from the header alone, before a byte of an oversized payload is buffered.
    ///
    /// - Throws: ``FrameError`` for a version, type or flags version 1 does not define, or a
    ///   payload over `maximumPayloadSize` bytes.
    @inlinable
    public init(
        payloadLength: UInt32, version: UInt8, type: UInt8, flags: UInt8, requestID: UInt32,
        maximumPayloadSize: Int
    ) throws(FrameError) {
        guard version == Self.version else { throw FrameError.unsupportedVersion(version) }
        guard Int(payloadLength) <= maximumPayloadSize else {
            throw FrameError.tooLarge(length: payloadLength, maximum: maximumPayloadSize)
        }
        let frameType = FrameType(rawValue: type)
        guard frameType.isKnown else { throw FrameError.unknownType(type) }
        let frameFlags = FrameFlags(rawValue: flags)
        guard FrameFlags.known.isSuperset(of: frameFlags) else { throw FrameError.unknownFlags(flags) }
        self.init(type: frameType, flags: frameFlags, requestID: requestID, payloadLength: payloadLength)
    }
}
