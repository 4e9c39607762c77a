import CProtobufC

extension MessageDescriptor {
    /// The name of field `number` when it is a singular string field, else nil. The gateway
    /// asks it of field 1 to learn whether a request is about one user (`user_id`).
    public func singularStringFieldName(_ number: UInt32) -> String? {
        guard let field = protobuf_c_message_descriptor_get_field(raw, number),
            field.pointee.type == PROTOBUF_C_TYPE_STRING, field.pointee.label != PROTOBUF_C_LABEL_REPEATED
        else {
            return nil
        }
        return String(cString: field.pointee.name)
    }

    /// Reads singular string field `number` from the packed bytes of a message of this type
    /// (unpacked by libprotobuf-c), without decoding into Swift; nil when the bytes are
    /// malformed or the field is not a singular string. An absent field reads as "".
    public func readStringField(_ number: UInt32, from bytes: UnsafeRawBufferPointer) -> String? {
        guard let field = protobuf_c_message_descriptor_get_field(raw, number),
            field.pointee.type == PROTOBUF_C_TYPE_STRING, field.pointee.label != PROTOBUF_C_LABEL_REPEATED
        else {
            return nil
        }
        let arena = ProtoArena(blockSize: max(256, bytes.count * 2))
        guard let message = ProtoCodec.unpack(self, from: bytes, arena: arena) else { return nil }
        let value = message.load(fromByteOffset: Int(field.pointee.offset), as: UnsafePointer<CChar>?.self)
        return withExtendedLifetime(arena) { ProtoC.string(value) }
    }
}
