import CProtobufC

/// Why bytes could not be decoded into a message.
public struct ProtoDecodingError: Error, CustomStringConvertible, Sendable {
    /// The message type that was expected.
    public var messageName: String
    /// How many bytes were offered.
    public var byteCount: Int

    public var description: String {
        "malformed protobuf: \(byteCount) bytes do not decode as \(messageName)"
    }
}

/// Encodes and decodes ``ProtoMessage`` values with libprotobuf-c.
public enum ProtoCodec {
    /// Packs `message` and hands the bytes to `body` (valid only inside it).
    public static func withEncoded<M: ProtoMessage, R>(
        _ message: M, _ body: (UnsafeRawBufferPointer) throws -> R
    ) rethrows -> R {
        let arena = ProtoArena()
        let c = arena.message(message).assumingMemoryBound(to: ProtobufCMessage.self)
        let size = protobuf_c_message_get_packed_size(c)
        let out = arena.allocate(size)
        let written = protobuf_c_message_pack(c, out.assumingMemoryBound(to: UInt8.self))
        return try withExtendedLifetime(arena) {
            try body(UnsafeRawBufferPointer(start: out, count: written))
        }
    }

    /// Packs `message` straight into caller-provided memory: `write` receives the packed size and
    /// a function that packs into memory of at least that size and returns the bytes written.
    public static func encode<M: ProtoMessage>(
        _ message: M, arena: ProtoArena = ProtoArena(),
        _ write: (_ size: Int, _ pack: (UnsafeMutableRawPointer) -> Int) -> Void
    ) {
        let c = arena.message(message).assumingMemoryBound(to: ProtobufCMessage.self)
        let size = protobuf_c_message_get_packed_size(c)
        write(size) { target in
            protobuf_c_message_pack(c, target.assumingMemoryBound(to: UInt8.self))
        }
        withExtendedLifetime(arena) {}
    }

    /// Encodes `message` to an array of bytes.
    public static func encode<M: ProtoMessage>(_ message: M) -> [UInt8] {
        withEncoded(message) { Array($0) }
    }

    /// Decodes `bytes` as `M`.
    public static func decode<M: ProtoMessage>(
        _ type: M.Type, from bytes: UnsafeRawBufferPointer, arena: ProtoArena = ProtoArena()
    ) throws(ProtoDecodingError) -> M {
        var allocator = arena.allocator
        let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self)
        guard let c = protobuf_c_message_unpack(M.messageDescriptor.raw, &allocator, bytes.count, base) else {
            throw ProtoDecodingError(messageName: M.protoName, byteCount: bytes.count)
        }
        return withExtendedLifetime(arena) { M(protobufC: UnsafeRawPointer(c)) }
    }

    /// Unpacks `bytes` as the C struct of `descriptor`, allocated in `arena` (valid until the
    /// arena is reset), or nil when the bytes are malformed.
    package static func unpack(
        _ descriptor: MessageDescriptor, from bytes: UnsafeRawBufferPointer, arena: ProtoArena
    ) -> UnsafeRawPointer? {
        var allocator = arena.allocator
        let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self)
        return protobuf_c_message_unpack(descriptor.raw, &allocator, bytes.count, base).map { UnsafeRawPointer($0) }
    }

    /// Decodes an array of bytes as `M`.
    public static func decode<M: ProtoMessage>(_ type: M.Type, from bytes: [UInt8]) throws(ProtoDecodingError) -> M {
        do {
            return try bytes.withUnsafeBytes { buffer in try decode(type, from: buffer) }
        } catch let error as ProtoDecodingError {
            throw error
        } catch {
            fatalError("unreachable: \(error)")
        }
    }
}

extension ProtoMessage {
    /// The message packed by libprotobuf-c.
    public func serializedBytes() -> [UInt8] { ProtoCodec.encode(self) }

    /// Decodes a message packed by any protobuf implementation.
    public init(serializedBytes bytes: [UInt8]) throws(ProtoDecodingError) {
        self = try ProtoCodec.decode(Self.self, from: bytes)
    }
}
