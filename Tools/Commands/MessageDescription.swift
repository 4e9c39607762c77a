import CProtobufC
import CRetainProto
import RetainProto

/// A readable listing of a message's fields, from its protobuf-c descriptor.
enum MessageDescription {
    static func describe(_ descriptor: MessageDescriptor, indent: String) -> String {
        let raw = descriptor.raw
        var lines = ["\(indent)message \(descriptor.fullName) {"]
        for index in 0..<Int(raw.pointee.n_fields) {
            let field = raw.pointee.fields[index]
            let label = field.label == PROTOBUF_C_LABEL_REPEATED ? "repeated " : ""
            lines.append("\(indent)  \(label)\(typeName(field)) \(String(cString: field.name)) = \(field.id);")
        }
        lines.append("\(indent)}")
        return lines.joined(separator: "\n")
    }

    private static func typeName(_ field: ProtobufCFieldDescriptor) -> String {
        switch field.type {
        case PROTOBUF_C_TYPE_INT32: "int32"
        case PROTOBUF_C_TYPE_SINT32: "sint32"
        case PROTOBUF_C_TYPE_SFIXED32: "sfixed32"
        case PROTOBUF_C_TYPE_INT64: "int64"
        case PROTOBUF_C_TYPE_SINT64: "sint64"
        case PROTOBUF_C_TYPE_SFIXED64: "sfixed64"
        case PROTOBUF_C_TYPE_UINT32: "uint32"
        case PROTOBUF_C_TYPE_FIXED32: "fixed32"
        case PROTOBUF_C_TYPE_UINT64: "uint64"
        case PROTOBUF_C_TYPE_FIXED64: "fixed64"
        case PROTOBUF_C_TYPE_FLOAT: "float"
        case PROTOBUF_C_TYPE_DOUBLE: "double"
        case PROTOBUF_C_TYPE_BOOL: "bool"
        case PROTOBUF_C_TYPE_STRING: "string"
        case PROTOBUF_C_TYPE_BYTES: "bytes"
        case PROTOBUF_C_TYPE_ENUM:
            String(cString: field.descriptor.assumingMemoryBound(to: ProtobufCEnumDescriptor.self).pointee.name)
        case PROTOBUF_C_TYPE_MESSAGE:
            String(cString: field.descriptor.assumingMemoryBound(to: ProtobufCMessageDescriptor.self).pointee.name)
        default: "unknown"
        }
    }
}
