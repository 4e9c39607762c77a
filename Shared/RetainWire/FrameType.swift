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
    /// Client to server: grants a flow-controlled call more bytes of answers. Payload: uint32
    /// increment (big-endian). Sent only for calls whose MESSAGE frames carry `FLOW_CONTROLLED`.
    public static let windowUpdate = Self(rawValue: 8)

    public var description: String {
        switch self {
        case .request: "REQUEST"
        case .message: "MESSAGE"
        case .status: "STATUS"
        case .cancel: "CANCEL"
        case .ping: "PING"
        case .pong: "PONG"
        case .goAway: "GOAWAY"
        case .windowUpdate: "WINDOW_UPDATE"
        default: "TYPE_\(rawValue)"
        }
    }

    /// Whether protocol version 1 defines this type.
    public var isKnown: Bool { (1...8).contains(rawValue) }
}
