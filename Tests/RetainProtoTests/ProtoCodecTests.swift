import RetainProto
import Testing

@Suite("protobuf-c codec")
struct ProtoCodecTests {
    static let sample = Retain_V1_EchoAllTypes(
        fDouble: 3.25, fFloat: -1.5, fInt64: -9_000_000_000, fUint64: .max, fInt32: -7, fUint32: 7,
        fSint64: -42, fBool: true, fString: "héllo wörld", fBytes: [0, 1, 2, 255], fEnum: .grumpy,
        fMessage: .init(text: "inner", payload: [9]), rInt64: [1, -2, 3], rBool: [true, false, true],
        rString: ["a", "", "ccc"], rBytes: [[1], [], [2, 3]], rEnum: [.happy, .grumpy, .init(rawValue: 99)],
        rMessage: [.init(text: "x"), .init(), .init(text: "z", payload: [1, 2])],
        mString: ["k": "v", "empty": ""], mInt64: ["a": 1, "b": -2], rDouble: [0.5, -0.25]
    )

    @Test("every field kind survives a round trip")
    func roundTrip() throws {
        let bytes = Self.sample.serializedBytes()
        let decoded = try Retain_V1_EchoAllTypes(serializedBytes: bytes)
        #expect(decoded == Self.sample)
    }

    @Test("an empty message encodes to zero bytes and decodes to defaults")
    func emptyMessage() throws {
        let bytes = Retain_V1_EchoAllTypes().serializedBytes()
        #expect(bytes.isEmpty)
        #expect(try Retain_V1_EchoAllTypes(serializedBytes: []) == Retain_V1_EchoAllTypes())
    }

    @Test("bytes that are not a valid message are rejected, not crashed on")
    func garbage() {
        // Field 9 (string) claiming 100 bytes with only 2 present.
        #expect(throws: ProtoDecodingError.self) {
            try Retain_V1_EchoAllTypes(serializedBytes: [0x4A, 100, 1, 2])
        }
        // A wire type 7 which does not exist.
        #expect(throws: ProtoDecodingError.self) {
            try Retain_V1_EchoAllTypes(serializedBytes: [0x0F, 0x00])
        }
    }

    @Test("the wire format matches protobuf's reference encoding")
    func referenceBytes() {
        // text = "hi" (field 1, length-delimited), payload = [7] (field 2).
        #expect(Retain_V1_EchoRequest(text: "hi", payload: [7]).serializedBytes() == [0x0A, 2, 0x68, 0x69, 0x12, 1, 7])
    }

    @Test("unknown enum numbers are kept")
    func openEnums() throws {
        let message = Retain_V1_EchoAllTypes(fEnum: .init(rawValue: 1234))
        #expect(try Retain_V1_EchoAllTypes(serializedBytes: message.serializedBytes()).fEnum.rawValue == 1234)
        #expect(Retain_V1_EchoMood.grumpy.description == "ECHO_MOOD_GRUMPY")
    }
}
