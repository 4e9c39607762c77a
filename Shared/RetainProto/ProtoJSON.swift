import CProtobufC
import CRetainProto
import Foundation

/// Why JSON could not become a message, or the reverse.
public struct ProtoJSONError: Error, CustomStringConvertible, Sendable {
    /// What went wrong, with the field path.
    public var description: String

    public init(_ description: String) { self.description = description }
}

/// JSON <-> protobuf for any message, driven by its protobuf-c descriptor: no per-message code.
///
/// Follows proto3's JSON mapping: field names in lowerCamelCase (the proto names are accepted
/// too), 64-bit integers as strings (numbers accepted), bytes as base64, enums by value name
/// (numbers accepted), maps as objects; fields at their default are omitted on output.
public enum ProtoJSON {
    /// Packs the message `json` describes, as the message type `descriptor` names.
    public static func encode(json: String, as descriptor: MessageDescriptor) throws -> [UInt8] {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(
                with: Data(json.isEmpty ? "{}".utf8 : json.utf8),
                options: [.fragmentsAllowed])
        } catch {
            throw ProtoJSONError("invalid JSON: \(error.localizedDescription)")
        }
        guard let dictionary = object as? [String: Any] else {
            throw ProtoJSONError("a message must be a JSON object")
        }
        let arena = ProtoArena()
        let message = arena.newMessage(descriptor)
        try fill(message, descriptor.raw, from: dictionary, path: descriptor.fullName, arena: arena)
        let c = message.assumingMemoryBound(to: ProtobufCMessage.self)
        var bytes = [UInt8](repeating: 0, count: protobuf_c_message_get_packed_size(c))
        bytes.withUnsafeMutableBufferPointer { _ = protobuf_c_message_pack(c, $0.baseAddress) }
        return bytes
    }

    /// Decodes packed `bytes` of the message type `descriptor` names, as JSON.
    public static func decode(_ bytes: [UInt8], as descriptor: MessageDescriptor, pretty: Bool = true) throws -> String {
        let arena = ProtoArena()
        let unpacked = bytes.withUnsafeBytes { ProtoCodec.unpack(descriptor, from: $0, arena: arena) }
        guard let unpacked else {
            throw ProtoJSONError("\(bytes.count) bytes do not decode as \(descriptor.fullName)")
        }
        let object = jsonObject(unpacked, descriptor.raw)
        var options: JSONSerialization.WritingOptions = [.sortedKeys, .withoutEscapingSlashes]
        if pretty { options.insert(.prettyPrinted) }
        let data = try JSONSerialization.data(withJSONObject: object, options: options)
        return String(decoding: data, as: UTF8.self)
    }

    /// The JSON name of a proto field: lowerCamelCase.
    static func jsonName(_ protoName: String) -> String {
        var result = ""
        var upper = false
        for character in protoName {
            if character == "_" {
                upper = true
            } else {
                result.append(upper ? Character(character.uppercased()) : character)
                upper = false
            }
        }
        return result
    }

    // MARK: JSON -> C message

    private static func fill(
        _ message: UnsafeMutableRawPointer, _ descriptor: UnsafePointer<ProtobufCMessageDescriptor>,
        from object: [String: Any], path: String, arena: ProtoArena
    ) throws {
        var byName: [String: UnsafePointer<ProtobufCFieldDescriptor>] = [:]
        for index in 0..<Int(descriptor.pointee.n_fields) {
            let field = descriptor.pointee.fields + index
            let name = String(cString: field.pointee.name)
            byName[name] = field
            byName[jsonName(name)] = field
        }
        for (key, value) in object {
            guard let field = byName[key] else {
                throw ProtoJSONError("\(path): no field '\(key)' in \(String(cString: descriptor.pointee.name))")
            }
            if value is NSNull { continue }
            let fieldPath = "\(path).\(key)"
            let slot = message + Int(field.pointee.offset)
            if field.pointee.label == PROTOBUF_C_LABEL_REPEATED {
                let items: [Any]
                if isMapEntry(field) {
                    guard let map = value as? [String: Any] else { throw ProtoJSONError("\(fieldPath): expected an object (map)") }
                    items = map.keys.sorted().map { ["key": $0, "value": map[$0]!] as [String: Any] }
                } else {
                    guard let array = value as? [Any] else { throw ProtoJSONError("\(fieldPath): expected an array") }
                    items = array
                }
                let size = elementSize(field.pointee.type)
                let storage = arena.allocate(max(1, size * items.count))
                for (index, item) in items.enumerated() {
                    try store(item, into: storage + index * size, field, path: "\(fieldPath)[\(index)]", arena: arena)
                }
                (message + Int(field.pointee.quantifier_offset)).storeBytes(of: items.count, as: Int.self)
                slot.storeBytes(of: items.isEmpty ? nil : storage, as: UnsafeMutableRawPointer?.self)
            } else {
                try store(value, into: slot, field, path: fieldPath, arena: arena)
            }
        }
    }

    private static func isMapEntry(_ field: UnsafePointer<ProtobufCFieldDescriptor>) -> Bool {
        guard field.pointee.type == PROTOBUF_C_TYPE_MESSAGE, let raw = field.pointee.descriptor else { return false }
        let entry = raw.assumingMemoryBound(to: ProtobufCMessageDescriptor.self)
        return String(cString: entry.pointee.short_name).hasSuffix("Entry") && entry.pointee.n_fields == 2
            && String(cString: entry.pointee.fields[0].name) == "key"
    }

    private static func elementSize(_ type: ProtobufCType) -> Int {
        switch type {
        case PROTOBUF_C_TYPE_INT32, PROTOBUF_C_TYPE_SINT32, PROTOBUF_C_TYPE_SFIXED32, PROTOBUF_C_TYPE_UINT32,
            PROTOBUF_C_TYPE_FIXED32, PROTOBUF_C_TYPE_FLOAT, PROTOBUF_C_TYPE_BOOL, PROTOBUF_C_TYPE_ENUM:
            4
        case PROTOBUF_C_TYPE_BYTES:
            MemoryLayout<ProtobufCBinaryData>.stride
        default:
            8
        }
    }

    private static func store(
        _ value: Any, into slot: UnsafeMutableRawPointer, _ field: UnsafePointer<ProtobufCFieldDescriptor>,
        path: String, arena: ProtoArena
    ) throws {
        switch field.pointee.type {
        case PROTOBUF_C_TYPE_INT32, PROTOBUF_C_TYPE_SINT32, PROTOBUF_C_TYPE_SFIXED32:
            slot.storeBytes(of: Int32(try integer(value, path: path, range: Int64(Int32.min)...Int64(Int32.max))), as: Int32.self)
        case PROTOBUF_C_TYPE_UINT32, PROTOBUF_C_TYPE_FIXED32:
            slot.storeBytes(of: UInt32(try integer(value, path: path, range: 0...Int64(UInt32.max))), as: UInt32.self)
        case PROTOBUF_C_TYPE_INT64, PROTOBUF_C_TYPE_SINT64, PROTOBUF_C_TYPE_SFIXED64:
            slot.storeBytes(of: try integer(value, path: path, range: Int64.min...Int64.max), as: Int64.self)
        case PROTOBUF_C_TYPE_UINT64, PROTOBUF_C_TYPE_FIXED64:
            slot.storeBytes(of: try unsigned(value, path: path), as: UInt64.self)
        case PROTOBUF_C_TYPE_FLOAT:
            slot.storeBytes(of: Float(try double(value, path: path)), as: Float.self)
        case PROTOBUF_C_TYPE_DOUBLE:
            slot.storeBytes(of: try double(value, path: path), as: Double.self)
        case PROTOBUF_C_TYPE_BOOL:
            guard let number = value as? NSNumber, isBoolean(number) else {
                throw ProtoJSONError("\(path): expected true or false")
            }
            let flag = number.boolValue
            slot.storeBytes(of: flag ? 1 : 0, as: Int32.self)
        case PROTOBUF_C_TYPE_ENUM:
            let enumDescriptor = field.pointee.descriptor!.assumingMemoryBound(to: ProtobufCEnumDescriptor.self)
            slot.storeBytes(of: try enumNumber(value, enumDescriptor, path: path), as: Int32.self)
        case PROTOBUF_C_TYPE_STRING:
            guard let text = value as? String else { throw ProtoJSONError("\(path): expected a string") }
            slot.storeBytes(of: arena.cString(text), as: UnsafeMutablePointer<CChar>.self)
        case PROTOBUF_C_TYPE_BYTES:
            guard let text = value as? String, let data = Data(base64Encoded: text) else {
                throw ProtoJSONError("\(path): expected base64 bytes")
            }
            slot.storeBytes(of: arena.binary(Array(data)), as: ProtobufCBinaryData.self)
        case PROTOBUF_C_TYPE_MESSAGE:
            guard let object = value as? [String: Any] else { throw ProtoJSONError("\(path): expected an object") }
            let sub = field.pointee.descriptor!.assumingMemoryBound(to: ProtobufCMessageDescriptor.self)
            let child = arena.newMessage(MessageDescriptor(raw: sub))
            try fill(child, sub, from: object, path: path, arena: arena)
            slot.storeBytes(of: child, as: UnsafeMutableRawPointer.self)
        default:
            throw ProtoJSONError("\(path): unsupported field type")
        }
    }

    private static func integer(_ value: Any, path: String, range: ClosedRange<Int64>) throws -> Int64 {
        let parsed: Int64?
        if let text = value as? String {
            parsed = Int64(text)
        } else if let number = value as? NSNumber, !isBoolean(number) {
            parsed = Double(number.int64Value) == number.doubleValue ? number.int64Value : nil
        } else {
            parsed = nil
        }
        guard let parsed, range.contains(parsed) else {
            throw ProtoJSONError("\(path): expected an integer in \(range.lowerBound)...\(range.upperBound)")
        }
        return parsed
    }

    /// Whether JSONSerialization produced `number` from `true` or `false`.
    private static func isBoolean(_ number: NSNumber) -> Bool {
        String(cString: number.objCType) == "c"
    }

    private static func unsigned(_ value: Any, path: String) throws -> UInt64 {
        if let text = value as? String, let parsed = UInt64(text) { return parsed }
        if let number = value as? NSNumber, number.doubleValue >= 0, number.doubleValue == number.doubleValue.rounded() {
            return number.uint64Value
        }
        throw ProtoJSONError("\(path): expected an unsigned integer")
    }

    private static func double(_ value: Any, path: String) throws -> Double {
        if let number = value as? NSNumber { return number.doubleValue }
        if let text = value as? String, let parsed = Double(text) { return parsed }
        throw ProtoJSONError("\(path): expected a number")
    }

    private static func enumNumber(_ value: Any, _ descriptor: UnsafePointer<ProtobufCEnumDescriptor>, path: String) throws -> Int32 {
        if let number = value as? NSNumber { return number.int32Value }
        guard let name = value as? String else { throw ProtoJSONError("\(path): expected an enum value name") }
        for index in 0..<Int(descriptor.pointee.n_values) where String(cString: descriptor.pointee.values[index].name) == name {
            return descriptor.pointee.values[index].value
        }
        throw ProtoJSONError("\(path): '\(name)' is not a value of \(String(cString: descriptor.pointee.name))")
    }

    // MARK: C message -> JSON

    private static func jsonObject(_ message: UnsafeRawPointer, _ descriptor: UnsafePointer<ProtobufCMessageDescriptor>) -> [String: Any] {
        var object: [String: Any] = [:]
        for index in 0..<Int(descriptor.pointee.n_fields) {
            let field = descriptor.pointee.fields + index
            let name = jsonName(String(cString: field.pointee.name))
            let slot = message + Int(field.pointee.offset)
            if field.pointee.label == PROTOBUF_C_LABEL_REPEATED {
                let count = (message + Int(field.pointee.quantifier_offset)).load(as: Int.self)
                guard count > 0, let storage = slot.load(as: UnsafeRawPointer?.self) else { continue }
                let size = elementSize(field.pointee.type)
                let values = (0..<count).map { jsonValue(storage + $0 * size, field) }
                if isMapEntry(field) {
                    var map: [String: Any] = [:]
                    let entryDescriptor = field.pointee.descriptor!.assumingMemoryBound(to: ProtobufCMessageDescriptor.self)
                    let valueField = entryDescriptor.pointee.fields + 1
                    for case let entry as [String: Any] in values {
                        map["\(entry["key"] ?? "")"] = entry["value"] ?? zeroJSON(valueField.pointee.type)
                    }
                    object[name] = map
                } else {
                    object[name] = values
                }
            } else if let value = jsonValue(slot, field, omitDefault: true) {
                object[name] = value
            }
        }
        return object
    }

    /// The JSON of a field's zero value, for map entries whose value was left at its default.
    private static func zeroJSON(_ type: ProtobufCType) -> Any {
        switch type {
        case PROTOBUF_C_TYPE_STRING, PROTOBUF_C_TYPE_BYTES: ""
        case PROTOBUF_C_TYPE_INT64, PROTOBUF_C_TYPE_SINT64, PROTOBUF_C_TYPE_SFIXED64,
            PROTOBUF_C_TYPE_UINT64, PROTOBUF_C_TYPE_FIXED64:
            "0"
        case PROTOBUF_C_TYPE_BOOL: false
        default: NSNumber(value: 0)
        }
    }

    private static func jsonValue(_ slot: UnsafeRawPointer, _ field: UnsafePointer<ProtobufCFieldDescriptor>) -> Any {
        jsonValue(slot, field, omitDefault: false) ?? NSNull()
    }

    private static func jsonValue(_ slot: UnsafeRawPointer, _ field: UnsafePointer<ProtobufCFieldDescriptor>, omitDefault: Bool) -> Any? {
        switch field.pointee.type {
        case PROTOBUF_C_TYPE_INT32, PROTOBUF_C_TYPE_SINT32, PROTOBUF_C_TYPE_SFIXED32:
            let value = slot.load(as: Int32.self)
            return omitDefault && value == 0 ? nil : NSNumber(value: value)
        case PROTOBUF_C_TYPE_UINT32, PROTOBUF_C_TYPE_FIXED32:
            let value = slot.load(as: UInt32.self)
            return omitDefault && value == 0 ? nil : NSNumber(value: value)
        case PROTOBUF_C_TYPE_INT64, PROTOBUF_C_TYPE_SINT64, PROTOBUF_C_TYPE_SFIXED64:
            let value = slot.load(as: Int64.self)
            return omitDefault && value == 0 ? nil : String(value)
        case PROTOBUF_C_TYPE_UINT64, PROTOBUF_C_TYPE_FIXED64:
            let value = slot.load(as: UInt64.self)
            return omitDefault && value == 0 ? nil : String(value)
        case PROTOBUF_C_TYPE_FLOAT:
            let value = slot.load(as: Float.self)
            return omitDefault && value == 0 ? nil : NSNumber(value: value)
        case PROTOBUF_C_TYPE_DOUBLE:
            let value = slot.load(as: Double.self)
            return omitDefault && value == 0 ? nil : NSNumber(value: value)
        case PROTOBUF_C_TYPE_BOOL:
            let value = slot.load(as: Int32.self) != 0
            return omitDefault && !value ? nil : value
        case PROTOBUF_C_TYPE_ENUM:
            let value = slot.load(as: Int32.self)
            if omitDefault && value == 0 { return nil }
            let descriptor = field.pointee.descriptor!.assumingMemoryBound(to: ProtobufCEnumDescriptor.self)
            for index in 0..<Int(descriptor.pointee.n_values) where descriptor.pointee.values[index].value == value {
                return String(cString: descriptor.pointee.values[index].name)
            }
            return NSNumber(value: value)
        case PROTOBUF_C_TYPE_STRING:
            let text = slot.load(as: UnsafePointer<CChar>?.self).map { String(cString: $0) } ?? ""
            return omitDefault && text.isEmpty ? nil : text
        case PROTOBUF_C_TYPE_BYTES:
            let data = slot.load(as: ProtobufCBinaryData.self)
            if omitDefault && data.len == 0 { return nil }
            return data.len == 0 ? "" : Data(bytes: data.data, count: data.len).base64EncodedString()
        case PROTOBUF_C_TYPE_MESSAGE:
            guard let child = slot.load(as: UnsafeRawPointer?.self) else { return nil }
            let sub = field.pointee.descriptor!.assumingMemoryBound(to: ProtobufCMessageDescriptor.self)
            return jsonObject(child, sub)
        default:
            return nil
        }
    }
}
