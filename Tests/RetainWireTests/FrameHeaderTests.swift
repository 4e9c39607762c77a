import RetainWire
import Testing

/// The frame header's checks and the status codes, without a socket or NIO.
@Suite("Frame header and status codes")
struct FrameHeaderTests {
    @Test("a header of version 1 with a known type and flags within the limit is accepted as sent")
    func accepted() throws {
        let header = try FrameHeader(payloadLength: 10, version: 1, type: 2, flags: 0x02, requestID: 7, maximumPayloadSize: 10)
        #expect(header == FrameHeader(type: .message, flags: .end, requestID: 7, payloadLength: 10))
    }

    @Test("a header is refused for its size, version, type or flags before any payload is read")
    func refused() {
        #expect(throws: FrameError.tooLarge(length: 11, maximum: 10)) {
            try FrameHeader(payloadLength: 11, version: 1, type: 1, flags: 0, requestID: 1, maximumPayloadSize: 10)
        }
        #expect(throws: FrameError.unsupportedVersion(2)) {
            try FrameHeader(payloadLength: 0, version: 2, type: 1, flags: 0, requestID: 1, maximumPayloadSize: 10)
        }
        #expect(throws: FrameError.unknownType(9)) {
            try FrameHeader(payloadLength: 0, version: 1, type: 9, flags: 0, requestID: 1, maximumPayloadSize: 10)
        }
        #expect(throws: FrameError.unknownFlags(0x80)) {
            try FrameHeader(payloadLength: 0, version: 1, type: 1, flags: 0x80, requestID: 1, maximumPayloadSize: 10)
        }
    }

    @Test("a GOAWAY for a frame error carries the status code of its kind")
    func goAwayCodes() {
        #expect(FrameError.tooLarge(length: 1, maximum: 0).statusCode == RPCStatusCode.resourceExhausted.rawValue)
        #expect(FrameError.unadmitted(length: 1, maximum: 0).statusCode == RPCStatusCode.unauthenticated.rawValue)
        #expect(FrameError.unknownType(9).statusCode == RPCStatusCode.invalidArgument.rawValue)
    }

    @Test("status codes read and print by their gRPC names")
    func statusNames() {
        #expect(RPCStatusCode(name: "not_found") == .notFound)
        #expect(RPCStatusCode.unauthenticated.name == "UNAUTHENTICATED")
        #expect(RPCError.invalidArgument(field: "user_id", "is required").description == "INVALID_ARGUMENT: user_id: is required")
    }
}
