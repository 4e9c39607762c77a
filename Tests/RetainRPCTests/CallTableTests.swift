import NIOCore
import RetainProto
@testable import RetainRPC
import Testing

@Suite("call table")
struct CallTableTests {
    @Test("finds, replaces and removes calls exactly as a Dictionary would, through growth and colliding ids")
    func matchesDictionary() {
        var table = CallTable<Int>()
        var model: [UInt32: Int] = [:]
        // A fixed linear congruential sequence: ids that run in order (as clients number them),
        // ids far apart, and ids that share low bits, inserted and removed in a mixed order.
        var state: UInt64 = 42
        func nextRandom() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state >> 33
        }
        for step in 0..<20_000 {
            let choice = nextRandom() % 4
            let id: UInt32 = switch nextRandom() % 3 {
            case 0: UInt32(step % 300 + 1)
            case 1: UInt32(truncatingIfNeeded: nextRandom()) | 1
            default: UInt32(nextRandom() % 64 + 1) << 16
            }
            switch choice {
            case 0, 1:
                table[id] = step
                model[id] = step
            case 2:
                #expect(table.removeValue(forKey: id) == model.removeValue(forKey: id))
            default:
                #expect(table[id] == model[id])
            }
            #expect(table.count == model.count)
        }
        for (id, value) in model { #expect(table[id] == value) }
        #expect(Dictionary(uniqueKeysWithValues: table.entries.map { ($0.key, $0.value) }) == model)
        #expect(table.values.sorted() == model.values.sorted())
        table.removeAll()
        #expect(table.isEmpty)
        #expect(table.entries.isEmpty)
        for id in model.keys { #expect(table[id] == nil) }
    }

    @Test("a removal keeps later calls of the same probe run reachable")
    func removalKeepsProbeRuns() {
        var table = CallTable<UInt32>()
        // 64 calls in flight, then every other one answered, then the rest looked up.
        for id in UInt32(1)...64 { table[id] = id * 10 }
        for id in stride(from: UInt32(1), through: 64, by: 2) { #expect(table.removeValue(forKey: id) == id * 10) }
        for id in UInt32(1)...64 { #expect(table[id] == (id % 2 == 0 ? id * 10 : nil)) }
        #expect(table.count == 32)
        #expect(table[0] == nil)
        #expect(table.removeValue(forKey: 0) == nil)
    }

    @Test("a frame header written in one store reads back field by field, after a frame already in the buffer")
    func frameHeaderAndLength() {
        var buffer = ByteBuffer(bytes: [9, 9, 9])
        buffer.moveReaderIndex(forwardBy: 2)
        let frameStart = buffer.writerIndex
        buffer.writeFrameHeader(type: .message, flags: .end, requestID: 0xA1B2_C3D4, payloadLength: 0)
        buffer.writeBytes([1, 2, 3, 4, 5])
        buffer.setFramePayloadLength(frameStart: frameStart)
        #expect(Array(buffer.readableBytesView) == [9, 0, 0, 0, 5, 1, 2, 2, 0, 0xA1, 0xB2, 0xC3, 0xD4, 1, 2, 3, 4, 5])
    }
}

@Suite("call header scan")
struct CallHeaderScanTests {
    func scan(_ bytes: [UInt8]) -> (method: String, authorization: String, timeout: UInt64, accepts: Bool)? {
        bytes.withUnsafeBytes { raw in
            CallHeaderScan(raw).map {
                (String(decoding: $0.method, as: UTF8.self), String(decoding: $0.authorization, as: UTF8.self),
                 $0.timeoutMicroseconds, $0.acceptsCompression)
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
}
