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
        case .tooLarge: RPCStatusCode.resourceExhausted.rawValue
        case .unsupportedVersion: RPCStatusCode.unimplemented.rawValue
        case .unadmitted: RPCStatusCode.unauthenticated.rawValue
        default: RPCStatusCode.invalidArgument.rawValue
        }
    }
}
