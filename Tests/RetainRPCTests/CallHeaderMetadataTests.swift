import RetainProto
@testable import RetainRPC
import Testing

@Suite("call header metadata read from the wire bytes")
struct CallHeaderMetadataTests {
    @Test("each key reads as a decode of the whole header reads it, among other fields, and absent keys are nil")
    func readsAsDecoded() throws {
        var generator = SystemRandomNumberGenerator()
        let keys = ["read-from", "max-staleness-ms", "ring-version", "tenant", "", "ü-key"]
        for round in 0..<300 {
            var header = Retain_V1_CallHeader(
                method: round % 3 == 0 ? "" : "retain.v1.Profile/GetProfile",
                timeoutUs: round % 2 == 0 ? 0 : UInt64.random(in: 1...UInt64(Int64.max), using: &generator),
                authorization: round % 4 == 0 ? "" : "Bearer " + String(repeating: "t", count: round),
                traceId: round % 5 == 0 ? "" : "trace-\(round)", idempotencyKey: round % 7 == 0 ? "k\(round)" : "")
            for key in keys where Bool.random(using: &generator) {
                header.metadata[key] = Bool.random(using: &generator) ? "" : "\(key)=\(round)" + String(repeating: "v", count: round % 200)
            }
            header.acceptCompression = round % 6 == 0
            header.windowBytes = round % 8 == 0 ? 65_536 : 0
            let bytes = header.serializedBytes()
            let decoded = try Retain_V1_CallHeader(serializedBytes: bytes)
            for key in keys + ["missing"] {
                let read = bytes.withUnsafeBytes { CallHeaderMetadata.value(of: key, in: $0) }
                #expect(read == decoded.metadata[key], "round \(round), key \(key)")
            }
        }
    }

    @Test("the last entry of a repeated key wins, as a map decodes; malformed bytes read as nil")
    func repeatedAndMalformed() throws {
        let first = Retain_V1_CallHeader(metadata: ["read-from": "leader"]).serializedBytes()
        let second = Retain_V1_CallHeader(metadata: ["read-from": "replica"]).serializedBytes()
        let both = first + second
        let decoded = try Retain_V1_CallHeader(serializedBytes: both)
        #expect(both.withUnsafeBytes { CallHeaderMetadata.value(of: "read-from", in: $0) } == decoded.metadata["read-from"])
        #expect(decoded.metadata["read-from"] == "replica")
        let cut = Array(second.dropLast(3))
        #expect(cut.withUnsafeBytes { CallHeaderMetadata.value(of: "read-from", in: $0) } == nil)
        let badTag: [UInt8] = [0x37, 0x01]  // field 6 with wire type 7
        #expect(badTag.withUnsafeBytes { CallHeaderMetadata.value(of: "read-from", in: $0) } == nil)
    }
}
