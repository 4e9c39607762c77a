public import NIOCore

/// Why a byte stream is not a valid sequence of frames. Each ends the connection with a GOAWAY.
public enum FrameError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A frame declared a payload larger than the configured maximum.
    case tooLarge(length: UInt32, maximum: Int)
    /// A frame carried a protocol version this build does not speak.
    case unsupportedVersion(UInt8)
    /// A frame had a type protocol version 1 does not define.
    case unknownType(UInt8)
    /// A frame had flags protocol version 1 does not define.
    case unknownFlags(UInt8)
    /// The connection closed in the middle of a frame.
    case truncated(bufferedBytes: Int)
    /// A frame larger than a connection may send before it presents a valid credential.
    case unadmitted(length: UInt32, maximum: Int)

    public var description: String {
        switch self {
        case .tooLarge(let length, let maximum): "frame of \(length) bytes exceeds the maximum of \(maximum) bytes"
        case .unsupportedVersion(let version): "unsupported protocol version \(version) (this server speaks 1)"
        case .unknownType(let type): "unknown frame type \(type)"
        case .unknownFlags(let flags): "unknown frame flags 0x\(String(flags, radix: 16))"
        case .truncated(let bytes): "connection closed inside a frame (\(bytes) bytes buffered)"
        case .unadmitted(let length, let maximum):
            "frame of \(length) bytes before the connection presented a valid credential "
                + "(at most \(maximum) bytes until a call's credential is verified)"
        }
    }

    /// The status code a GOAWAY reports for this error.
    public var statusCode: UInt32 {
        switch self {
        case .tooLarge: 8  // RESOURCE_EXHAUSTED
        case .unsupportedVersion: 12  // UNIMPLEMENTED
        case .unadmitted: 16  // UNAUTHENTICATED
        default: 3  // INVALID_ARGUMENT
        }
    }
}

/// Splits a byte stream into ``Frame``s, checking version, type, flags and the size limit from
/// the header alone, before a single byte of an oversized body is buffered.
public struct FrameDecoder: NIOSingleStepByteToMessageDecoder, Sendable {
    public typealias InboundOut = Frame

    /// The largest payload accepted, in bytes.
    public let maximumPayloadSize: Int

    public init(maximumPayloadSize: Int) {
        self.maximumPayloadSize = maximumPayloadSize
    }

    public mutating func decode(buffer: inout ByteBuffer) throws -> Frame? {
        guard let (length, version, type, flags, _, requestID) = buffer.getMultipleIntegers(
            at: buffer.readerIndex, as: (UInt32, UInt8, UInt8, UInt8, UInt8, UInt32).self
        ) else {
            return nil
        }
        guard version == Frame.version else { throw FrameError.unsupportedVersion(version) }
        guard Int(length) <= maximumPayloadSize else {
            throw FrameError.tooLarge(length: length, maximum: maximumPayloadSize)
        }
        let frameType = FrameType(rawValue: type)
        guard frameType.isKnown else { throw FrameError.unknownType(type) }
        let frameFlags = FrameFlags(rawValue: flags)
        guard FrameFlags.known.isSuperset(of: frameFlags) else { throw FrameError.unknownFlags(flags) }
        guard buffer.readableBytes >= Frame.headerSize + Int(length) else { return nil }
        buffer.moveReaderIndex(forwardBy: Frame.headerSize)
        let payload = buffer.readSlice(length: Int(length))!
        return Frame(type: frameType, flags: frameFlags, requestID: requestID, payload: payload)
    }

    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> Frame? {
        if let frame = try decode(buffer: &buffer) { return frame }
        if buffer.readableBytes > 0 { throw FrameError.truncated(bufferedBytes: buffer.readableBytes) }
        return nil
    }
}
