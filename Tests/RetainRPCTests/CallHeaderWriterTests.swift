import NIOCore
import RetainProto
@testable import RetainRPC
import Testing

@Suite("call header writer")
struct CallHeaderWriterTests {
    static let headers: [Retain_V1_CallHeader] = [
        Retain_V1_CallHeader(),
        Retain_V1_CallHeader(method: "retain.v1.Echo/Echo"),
        Retain_V1_CallHeader(
            method: "retain.v1.Profile/GetProfile", timeoutUs: 29_999_987, authorization: "Bearer " + String(repeating: "t", count: 300),
            traceId: "0123456789abcdef0123456789abcdef", idempotencyKey: "key-1", acceptCompression: true, windowBytes: 262_144),
        Retain_V1_CallHeader(timeoutUs: UInt64(Int64.max / 1000), traceId: "trace", windowBytes: UInt32.max),
        Retain_V1_CallHeader(
            method: "retain.v1.Echo/Inspect", traceId: "é-ü-✓",
            metadata: ["ring-version": "42", "partial-results": "allow", "": "empty key", "x": ""]),
    ]

    @Test("what it writes decodes with libprotobuf-c to the same header")
    func roundTrip() throws {
        for header in Self.headers {
            var buffer = ByteBuffer()
            let written = CallHeaderWriter.write(header, into: &buffer)
            #expect(written == buffer.readableBytes)
            #expect(try buffer.decodeProtoMessage(Retain_V1_CallHeader.self) == header)
        }
    }

    @Test("without metadata it writes the bytes libprotobuf-c packs")
    func sameBytesAsLibprotobufC() {
        for header in Self.headers where header.metadata.count <= 1 {
            var buffer = ByteBuffer()
            CallHeaderWriter.write(header, into: &buffer)
            #expect(Array(buffer.readableBytesView) == header.serializedBytes())
        }
    }
}
