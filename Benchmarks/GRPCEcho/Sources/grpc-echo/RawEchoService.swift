import GRPCCore

/// `retain.v1.Echo/Echo`, registered by hand (no generated code): the request's protobuf bytes
/// are answered as they came. An `EchoRequest` (field 1 `text`, field 2 `payload`) has the same
/// encoding as the `EchoResponse` holding the same text and payload, so this is the echo that
/// `retain-echo` answers, byte for byte, without a decode and an encode.
struct RawEchoService: RegistrableRPCService {
    static let echo = MethodDescriptor(fullyQualifiedService: "retain.v1.Echo", method: "Echo")

    func registerMethods<Transport: ServerTransport>(with router: inout RPCRouter<Transport>) {
        router.registerHandler(
            forMethod: Self.echo, deserializer: RawBytesDeserializer(), serializer: RawBytesSerializer()
        ) { request, _ in
            // A unary handler over the streaming request: exactly one message in, one out.
            let single = try await ServerRequest(stream: request)
            return StreamingServerResponse(single: ServerResponse(message: single.message))
        }
    }
}

/// Protobuf bytes as they are: the message is the encoded message.
struct RawBytesSerializer: MessageSerializer {
    func serialize<Bytes: GRPCContiguousBytes>(_ message: [UInt8]) throws -> Bytes {
        Bytes(message)
    }
}

/// Protobuf bytes as they are: the message is the encoded message.
struct RawBytesDeserializer: MessageDeserializer {
    func deserialize<Bytes: GRPCContiguousBytes>(_ serializedMessageBytes: Bytes) throws -> [UInt8] {
        serializedMessageBytes.withUnsafeBytes { Array($0) }
    }
}

/// The encoding of `EchoRequest { payload: <count bytes of "a"> }`, as `retain-bench echo` sends:
/// field 2 (length-delimited), a varint length, the bytes.
func echoRequestBytes(payload count: Int) -> [UInt8] {
    var bytes: [UInt8] = [0x12]
    var length = UInt64(count)
    while length >= 0x80 {
        bytes.append(UInt8(truncatingIfNeeded: length) | 0x80)
        length >>= 7
    }
    bytes.append(UInt8(length))
    bytes += [UInt8](repeating: 0x61, count: count)
    return bytes
}
