import RetainProto

/// The files of a serialized `google.protobuf.FileDescriptorSet` and the symbols each declares,
/// for gRPC reflection: which file holds a message, enum, service or method, and which files a
/// file needs.
///
/// ```
/// FileDescriptorSet       1: repeated FileDescriptorProto file
/// FileDescriptorProto     1: name, 2: package, 3: repeated dependency,
///                         4: repeated DescriptorProto message_type, 5: repeated EnumDescriptorProto enum_type,
///                         6: repeated ServiceDescriptorProto service
/// DescriptorProto         1: name, 3: repeated nested_type, 4: repeated enum_type
/// EnumDescriptorProto     1: name
/// ServiceDescriptorProto  1: name, 2: repeated MethodDescriptorProto method (1: name)
/// ```
struct DescriptorIndex: Sendable {
    /// One file: its serialized `FileDescriptorProto` and the files it imports.
    struct File: Sendable {
        let name: String
        let bytes: [UInt8]
        let dependencies: [String]
    }

    /// Files by name.
    private(set) var files: [String: File] = [:]
    /// The file declaring each fully qualified symbol (`retain.v1.Echo`, `retain.v1.Echo.Echo`,
    /// `retain.v1.EchoRequest`, ...).
    private(set) var fileBySymbol: [String: String] = [:]
    /// Fully qualified names of the services the files declare.
    private(set) var services: Set<String> = []

    /// Reads `descriptorSet`.
    ///
    /// - Throws: ``ProtoWireReader/Malformed`` when the bytes are not a descriptor set.
    init(descriptorSet: [UInt8]) throws {
        try ProtoWireReader(descriptorSet[...]).forEachField { number, value in
            guard number == 1, case .bytes(let file) = value else { return }
            try add(file: file)
        }
    }

    private mutating func add(file: ArraySlice<UInt8>) throws {
        var name = "", package = ""
        var dependencies: [String] = []
        var symbols: [String] = []
        var messages: [ArraySlice<UInt8>] = []
        try ProtoWireReader(file).forEachField { number, value in
            guard case .bytes(let field) = value else { return }
            switch number {
            case 1: name = String(decoding: field, as: UTF8.self)
            case 2: package = String(decoding: field, as: UTF8.self)
            case 3: dependencies.append(String(decoding: field, as: UTF8.self))
            case 4: messages.append(field)
            case 5: symbols.append(try Self.name(of: field))
            case 6:
                let service = try Self.name(of: field)
                symbols.append(service)
                try ProtoWireReader(field).forEachField { number, value in
                    guard number == 2, case .bytes(let method) = value else { return }
                    symbols.append("\(service).\(try Self.name(of: method))")
                }
                services.insert(package.isEmpty ? service : "\(package).\(service)")
            default: break
            }
        }
        for message in messages { try Self.messageSymbols(message, prefix: "", into: &symbols) }
        files[name] = File(name: name, bytes: Array(file), dependencies: dependencies)
        for symbol in symbols { fileBySymbol[package.isEmpty ? symbol : "\(package).\(symbol)"] = name }
    }

    /// A message's name and those of its nested messages and enums, relative to the package.
    private static func messageSymbols(_ message: ArraySlice<UInt8>, prefix: String, into symbols: inout [String]) throws {
        let qualified = prefix + (try name(of: message))
        symbols.append(qualified)
        try ProtoWireReader(message).forEachField { number, value in
            guard case .bytes(let field) = value else { return }
            switch number {
            case 3: try messageSymbols(field, prefix: qualified + ".", into: &symbols)
            case 4: symbols.append("\(qualified).\(try name(of: field))")
            default: break
            }
        }
    }

    /// Field 1 (`name`) of a descriptor.
    private static func name(of descriptor: ArraySlice<UInt8>) throws -> String {
        var name = ""
        try ProtoWireReader(descriptor).forEachField { number, value in
            if number == 1, case .bytes(let text) = value { name = String(decoding: text, as: UTF8.self) }
        }
        return name
    }

    /// `file` followed by every file it needs, directly or not, each once; nil for an unknown file.
    func withDependencies(_ file: String) -> [File]? {
        guard let first = files[file] else { return nil }
        var result = [first]
        var seen: Set<String> = [file]
        var index = 0
        while index < result.count {
            for dependency in result[index].dependencies where !seen.contains(dependency) {
                seen.insert(dependency)
                if let found = files[dependency] { result.append(found) }
            }
            index += 1
        }
        return result
    }
}
