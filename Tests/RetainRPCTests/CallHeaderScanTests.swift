import RetainProto
@testable import RetainRPC
import Testing

@Suite("call header scan")
struct CallHeaderScanTests {
    func scan(_ bytes: [UInt8]) -> (method: String, authorization: String, timeout: UInt64, accepts: Bool)? {
        bytes.withUnsafeBytes { raw in
            CallHeaderScan(raw).map {
                (
                    String(decoding: $0.method, as: UTF8.self), String(decoding: $0.authorization, as: UTF8.self),
                    $0.timeoutMicroseconds, $0.acceptsCompression
                )
            }
        }
    }

    @Test("reads the headers clients send exactly as libprotobuf-c decodes them")
    func clientHeaders() throws {
        let method = Retain_V1_Echo.echo
        let token = "Bearer " + String(repeating: "x", count: 300)
        let headers: [[UInt8]] = [
            method.headerBytes,
            method.headerBytesAcceptingCompression,
            method.headerBytesAcceptingCompression + Retain_V1_CallHeader(timeoutUs: 2_000_000, authorization: token).serializedBytes(),
            Retain_V1_CallHeader(method: method.path, timeoutUs: UInt64(Int64.max / 1000), authorization: "ApiKey k").serializedBytes(),
            Retain_V1_CallHeader().serializedBytes(),
        ]
        for bytes in headers {
            let decoded = try Retain_V1_CallHeader(serializedBytes: bytes)
            let scanned = try #require(scan(bytes))
            #expect(scanned.method == decoded.method)
            #expect(scanned.authorization == decoded.authorization)
            #expect(scanned.timeout == decoded.timeoutUs)
            #expect(scanned.accepts == decoded.acceptCompression)
        }
    }

    @Test("leaves every other header to libprotobuf-c: other fields, repeats, NUL or non-ASCII text, truncation")
    func otherHeaders() {
        let method = Retain_V1_Echo.echo
        let others: [[UInt8]] = [
            Retain_V1_CallHeader(method: method.path, traceId: "t").serializedBytes(),
            Retain_V1_CallHeader(method: method.path, metadata: ["k": "v"]).serializedBytes(),
            method.headerBytes + method.headerBytes,
            [0x0A, 3, 0x61, 0x00, 0x62],
            [0x0A, 2, 0xC3, 0xA9],
            [0x0A, 5, 0x61],
            [0x10, 0xFF],
            [0x38, 2],
            [0x12, 1, 0x61],
            [0x00],
        ]
        for bytes in others { #expect(scan(bytes) == nil, "\(bytes)") }
    }

    @Test("reads window_bytes, and leaves a repeated one to libprotobuf-c")
    func windowBytes() throws {
        let bytes = Retain_V1_Echo.expand.headerBytesAcceptingCompression + Retain_V1_CallHeader(windowBytes: 262_144).serializedBytes()
        let scanned = try #require(bytes.withUnsafeBytes { CallHeaderScan($0) })
        #expect(scanned.windowBytes == 262_144)
        #expect(scanned.acceptsCompression)
        let repeated = bytes + Retain_V1_CallHeader(windowBytes: 1).serializedBytes()
        #expect(repeated.withUnsafeBytes { CallHeaderScan($0) } == nil)
    }
}
