import RetainProto
import Testing

@Suite("JSON <-> protobuf by descriptor")
struct ProtoJSONTests {
    let descriptor = MessageDescriptor.lookup("retain.v1.EchoAllTypes")!

    @Test("JSON of every field kind packs to the same bytes as the typed message")
    func jsonToBytes() throws {
        let json = """
            {"fDouble": 3.25, "fInt64": "-9000000000", "fUint64": "18446744073709551615", "fInt32": -7,
             "f_uint32": 7, "fBool": true, "fString": "héllo", "fBytes": "AAEC/w==", "fEnum": "ECHO_MOOD_GRUMPY",
             "fMessage": {"text": "inner", "payload": "CQ=="}, "rInt64": [1, "-2", 3], "rBool": [true, false],
             "rString": ["a", "", "ccc"], "rEnum": ["ECHO_MOOD_HAPPY", 2], "rMessage": [{"text": "x"}, {}],
             "mString": {"k": "v"}, "mInt64": {"a": "1", "b": -2}}
            """
        let bytes = try ProtoJSON.encode(json: json, as: descriptor)
        let decoded = try Retain_V1_EchoAllTypes(serializedBytes: bytes)
        #expect(
            decoded
                == Retain_V1_EchoAllTypes(
                    fDouble: 3.25, fInt64: -9_000_000_000, fUint64: .max, fInt32: -7, fUint32: 7, fBool: true,
                    fString: "héllo", fBytes: [0, 1, 2, 255], fEnum: .grumpy, fMessage: .init(text: "inner", payload: [9]),
                    rInt64: [1, -2, 3], rBool: [true, false], rString: ["a", "", "ccc"], rEnum: [.happy, .grumpy],
                    rMessage: [.init(text: "x"), .init()], mString: ["k": "v"], mInt64: ["a": 1, "b": -2]))
    }

    @Test("bytes decode to proto3 JSON and back to the same message")
    func roundTrip() throws {
        let message = Retain_V1_EchoAllTypes(
            fInt64: 5, fString: "s", fEnum: .happy, fMessage: .init(text: "m"), rString: ["x"], mString: ["a": ""], mInt64: ["z": 0])
        let json = try ProtoJSON.decode(message.serializedBytes(), as: descriptor, pretty: false)
        #expect(json.contains(#""fInt64":"5""#))
        #expect(json.contains(#""fEnum":"ECHO_MOOD_HAPPY""#))
        #expect(!json.contains("fDouble"))
        let back = try Retain_V1_EchoAllTypes(serializedBytes: ProtoJSON.encode(json: json, as: descriptor))
        #expect(back == message)
    }

    @Test("bad JSON names the field and the problem")
    func errors() {
        #expect(throws: ProtoJSONError.self) { try ProtoJSON.encode(json: #"{"nope": 1}"#, as: descriptor) }
        #expect { try ProtoJSON.encode(json: #"{"fInt32": "x"}"#, as: descriptor) } throws: { error in
            "\(error)".contains("fInt32")
        }
        #expect { try ProtoJSON.encode(json: #"{"fEnum": "SAD"}"#, as: descriptor) } throws: { error in
            "\(error)".contains("SAD")
        }
        #expect(throws: ProtoJSONError.self) { try ProtoJSON.encode(json: "[1]", as: descriptor) }
        #expect(throws: ProtoJSONError.self) { try ProtoJSON.encode(json: #"{"fInt32": 3000000000}"#, as: descriptor) }
    }
}
