import NIOCore
import RetainProto
import RetainRPC
import RetainWire

/// What the fuzzer exercises with each input: the frame decoder, the REQUEST payload decoder,
/// and decoding of every message type (to Swift values and to JSON). Any crash, hang or
/// sanitizer report is a bug; thrown errors are the expected answer to bad input.
public enum FuzzTarget {
    /// Every message type this build knows, in a fixed order.
    static let descriptors: [MessageDescriptor] = MessageDescriptor.all.sorted { $0.fullName < $1.fullName }

    private static func decodeTyped<M: ProtoMessage>(_ type: M.Type, _ bytes: [UInt8]) throws -> M {
        try M(serializedBytes: bytes)
    }

    /// Runs one input through every decoder.
    public static func run(_ bytes: UnsafeRawBufferPointer) {
        var buffer = ByteBuffer(bytes: bytes)
        // Frames: decode until the decoder wants more bytes or rejects the stream.
        var decoder = FrameDecoder(maximumPayloadSize: 1 << 16)
        while true {
            guard let frame = try? decoder.decode(buffer: &buffer) else { break }
            if frame.type == .request { _ = try? RequestPayload.decode(frame.payload) }
            if frame.flags.contains(.compressed) {
                _ = try? MessageCompression.decompress(frame.payload, maximumSize: 1 << 16, allocator: ByteBufferAllocator())
            }
        }
        _ = try? RequestPayload.decode(ByteBuffer(bytes: bytes))
        // Messages: the first byte picks a type so the fuzzer can steer, and the rest decodes as it.
        guard let selector = bytes.first, !descriptors.isEmpty else { return }
        let descriptor = descriptors[Int(selector) % descriptors.count]
        let body = Array(bytes.dropFirst())
        _ = try? ProtoJSON.decode(body, as: descriptor, pretty: false)
        // The typed path every service's request decoding takes, for the type the selector picks.
        let type = retainMessageTypes[Int(selector) % retainMessageTypes.count]
        if let message = try? decodeTyped(type, body) {
            _ = message.serializedBytes()
        }
    }
}
