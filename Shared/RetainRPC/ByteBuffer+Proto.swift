public import NIOCore
public import RetainProto

extension ByteBuffer {
    /// Packs `message` with libprotobuf-c straight into the buffer; returns the bytes written.
    @discardableResult
    public mutating func writeProtoMessage<M: ProtoMessage>(_ message: M, arena: ProtoArena = ProtoArena()) -> Int {
        var written = 0
        ProtoCodec.encode(message, arena: arena) { size, pack in
            written = writeWithUnsafeMutableBytes(minimumWritableBytes: size) { target in
                size == 0 ? 0 : pack(target.baseAddress!)
            }
        }
        return written
    }

    /// Decodes the readable bytes as `M` without consuming them.
    public func decodeProtoMessage<M: ProtoMessage>(
        _ type: M.Type, arena: ProtoArena = ProtoArena()
    ) throws(ProtoDecodingError) -> M {
        do {
            return try withUnsafeReadableBytes { bytes in try ProtoCodec.decode(type, from: bytes, arena: arena) }
        } catch let error as ProtoDecodingError {
            throw error
        } catch {
            preconditionFailure("ProtoCodec.decode throws only ProtoDecodingError: \(error)")
        }
    }
}
