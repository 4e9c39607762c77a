package import CProtobufC
import CRetainProto

/// A protobuf-c message descriptor from the generated registry.
public struct MessageDescriptor: @unchecked Sendable, Hashable {
    /// The C descriptor; it lives as long as the process.
    package let raw: UnsafePointer<ProtobufCMessageDescriptor>

    package init(raw: UnsafePointer<ProtobufCMessageDescriptor>) {
        self.raw = raw
    }

    /// The message's full name, for example `retain.v1.EchoRequest`.
    public var fullName: String { String(cString: raw.pointee.name) }

    /// Every message type this build knows.
    public static var all: [MessageDescriptor] { Array(ProtoRegistry.messages.values) }

    /// Looks a descriptor up by full name, or nil when this build has no such message.
    public static func lookup(_ fullName: String) -> MessageDescriptor? {
        ProtoRegistry.messages[fullName]
    }

    /// Looks a descriptor up by full name; the name must come from generated code.
    package static func named(_ fullName: String) -> MessageDescriptor {
        guard let descriptor = ProtoRegistry.messages[fullName] else {
            fatalError("no protobuf-c descriptor for \(fullName): regenerate with scripts/generate-proto.sh")
        }
        return descriptor
    }
}

/// Every descriptor that protoc-c generated, indexed by full name.
package enum ProtoRegistry {
    /// Message descriptors by full name.
    package static let messages: [String: MessageDescriptor] = {
        var table: [String: MessageDescriptor] = [:]
        for index in 0..<retain_message_descriptor_count() {
            let raw = retain_message_descriptor(index)!
            table[String(cString: raw.pointee.name)] = MessageDescriptor(raw: raw)
        }
        return table
    }()
}
