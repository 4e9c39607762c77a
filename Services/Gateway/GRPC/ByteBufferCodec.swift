import GRPCCore
public import NIOCore

/// Protobuf bytes as they are: a message is its encoding, passed through without a decode.
struct ByteBufferSerializer: MessageSerializer {
    func serialize<Bytes: GRPCContiguousBytes>(_ message: ByteBuffer) throws -> Bytes {
        message.withUnsafeReadableBytes { Bytes($0) }
    }
}

/// Protobuf bytes as they are: a message is its encoding, passed through without a decode.
struct ByteBufferDeserializer: MessageDeserializer {
    func deserialize<Bytes: GRPCContiguousBytes>(_ serializedMessageBytes: Bytes) throws -> ByteBuffer {
        serializedMessageBytes.withUnsafeBytes { ByteBuffer(bytes: $0) }
    }
}
