/// A Swift value type generated from a `.proto` message by `scripts/protogen.py`.
///
/// Conforming types convert to and from the C structs that protoc-c generates, so that
/// libprotobuf-c does all encoding and decoding; ``ProtoCodec`` drives the conversion.
public protocol ProtoMessage: Sendable, Hashable {
    /// The message's full protobuf name, for example `retain.v1.EchoRequest`.
    static var protoName: String { get }
    /// The protobuf-c descriptor of the message.
    static var messageDescriptor: MessageDescriptor { get }
    /// Creates a message with every field at its proto3 default.
    init()
    /// Reads an unpacked protobuf-c message whose descriptor is ``messageDescriptor``.
    init(protobufC pointer: UnsafeRawPointer)
    /// Writes the fields into a protobuf-c message that `message_init` has initialised.
    /// Strings, arrays and sub-messages are allocated in `arena`.
    func writeProtobufC(into pointer: UnsafeMutableRawPointer, arena: ProtoArena)
}

/// A Swift value type generated from a `.proto` enum. Open like proto3 enums: a value that this
/// build does not know keeps its number.
public protocol ProtoEnum: RawRepresentable, Hashable, Sendable, CaseIterable,
    CustomStringConvertible
where RawValue == Int32 {
    /// The enum's full protobuf name.
    static var protoName: String { get }
    /// The value's name in the `.proto` file, or nil for a number this build does not know.
    var protoValueName: String? { get }
}

extension ProtoEnum {
    public var description: String { protoValueName ?? String(rawValue) }

    /// The value's name without the prefix the `.proto` gives every value of the enum (the
    /// enum's name in upper snake case): `EMAIL` for `CONTACT_CHANNEL_EMAIL`; nil for a number
    /// this build does not know.
    public var unprefixedName: String? {
        guard let name = protoValueName else { return nil }
        let prefix = Self.valuePrefix
        return name.hasPrefix(prefix) ? String(name.dropFirst(prefix.count)) : name
    }

    /// `CONTACT_CHANNEL_` for `retain.v1.ContactChannel`.
    static var valuePrefix: String {
        var prefix = ""
        for character in protoName.split(separator: ".").last ?? "" {
            if character.isUppercase, !prefix.isEmpty { prefix.append("_") }
            prefix += character.uppercased()
        }
        return prefix + "_"
    }
}
