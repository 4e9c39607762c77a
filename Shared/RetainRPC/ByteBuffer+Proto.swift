public import NIOCore
public import RetainProto

extension ByteBuffer {
    /// Packs `message` with libprotobuf-c straight into the buffer; returns the bytes written.
    @discardableResult
    public mutating func writeProtoMessage<M: ProtoMessage>(_ message: M) -> Int {
        var written = 0
        ProtoCodec.encode(message) { size, pack in
            written = writeWithUnsafeMutableBytes(minimumWritableBytes: size) { target in
                size == 0 ? 0 : pack(target.baseAddress!)
            }
        }
        return written
    }

    /// Decodes the readable bytes as `M` without consuming them.
    public func decodeProtoMessage<M: ProtoMessage>(_ type: M.Type) throws(ProtoDecodingError) -> M {
        var failure: ProtoDecodingError?
        let message: M? = withUnsafeReadableBytes { bytes in
            do {
                return try ProtoCodec.decode(type, from: bytes)
            } catch {
                failure = error as? ProtoDecodingError
                return nil
            }
        }
        if let message { return message }
        throw failure!
    }
}
