import Foundation

/// What the contract says about one rpc: its wire path, message types and shape.
public struct MethodSchema: Sendable, Hashable {
    /// The wire path, `retain.v1.<Service>/<Method>`.
    public let path: String
    /// Full name of the request message, e.g. `retain.v1.GetProfileRequest`.
    public let inputType: String
    /// Full name of the answer message.
    public let outputType: String
    /// True when the method answers with a stream.
    public let serverStreaming: Bool

    /// The service part of the path, e.g. `retain.v1.Profile`.
    public var serviceName: String { String(path.prefix { $0 != "/" }) }

    /// The request's protobuf-c descriptor, or nil when this build does not know the type.
    public var inputDescriptor: MessageDescriptor? { MessageDescriptor.lookup(inputType) }

    /// True when the request is about one user: its field 1 is the string `user_id`
    /// (the convention of common.proto that the gateway routes by).
    public var isUserKeyed: Bool { inputDescriptor?.singularStringFieldName(1) == "user_id" }
}

/// Every rpc of every Retain `.proto` file, read once from the descriptor set compiled into
/// RetainProto, so that generic code (the gateway) learns the methods without a hand-kept table.
public enum MethodCatalog {
    /// Schemas by wire path.
    public static let methods: [String: MethodSchema] = {
        let compact = retainDescriptorSetBase64.filter { !$0.isWhitespace }
        guard let data = Data(base64Encoded: compact) else { return [:] }
        var table: [String: MethodSchema] = [:]
        for method in (try? parse(Array(data))) ?? [] { table[method.path] = method }
        return table
    }()

    /// The schema of the method at `path`, or nil when the contract has none.
    public static func method(_ path: String) -> MethodSchema? { methods[path] }

    /// Reads the methods out of a serialized `google.protobuf.FileDescriptorSet`:
    ///
    /// ```
    /// FileDescriptorSet    1: repeated FileDescriptorProto file
    /// FileDescriptorProto  2: string package, 6: repeated ServiceDescriptorProto service
    /// ServiceDescriptorProto 1: string name, 2: repeated MethodDescriptorProto method
    /// MethodDescriptorProto  1: string name, 2: string input_type (".pkg.Msg"),
    ///                        3: string output_type, 6: bool server_streaming
    /// ```
    static func parse(_ bytes: [UInt8]) throws -> [MethodSchema] {
        var methods: [MethodSchema] = []
        try ProtoWireReader(bytes[...]).forEachField { number, value in
            guard number == 1, case .bytes(let file) = value else { return }
            var package = ""
            var services: [ArraySlice<UInt8>] = []
            try ProtoWireReader(file).forEachField { number, value in
                switch (number, value) {
                case (2, .bytes(let text)): package = String(decoding: text, as: UTF8.self)
                case (6, .bytes(let service)): services.append(service)
                default: break
                }
            }
            for service in services {
                var serviceName = ""
                var serviceMethods: [ArraySlice<UInt8>] = []
                try ProtoWireReader(service).forEachField { number, value in
                    switch (number, value) {
                    case (1, .bytes(let text)): serviceName = String(decoding: text, as: UTF8.self)
                    case (2, .bytes(let method)): serviceMethods.append(method)
                    default: break
                    }
                }
                for method in serviceMethods {
                    var name = "", input = "", output = "", streaming = false
                    try ProtoWireReader(method).forEachField { number, value in
                        switch (number, value) {
                        case (1, .bytes(let text)): name = String(decoding: text, as: UTF8.self)
                        case (2, .bytes(let text)): input = String(decoding: text, as: UTF8.self)
                        case (3, .bytes(let text)): output = String(decoding: text, as: UTF8.self)
                        case (6, .varint(let flag)): streaming = flag != 0
                        default: break
                        }
                    }
                    let qualified = package.isEmpty ? serviceName : "\(package).\(serviceName)"
                    methods.append(
                        MethodSchema(
                            path: "\(qualified)/\(name)", inputType: String(input.drop { $0 == "." }),
                            outputType: String(output.drop { $0 == "." }), serverStreaming: streaming))
                }
            }
        }
        return methods
    }
}

/// Walks the fields of one protobuf message in wire format, without a schema.
package struct ProtoWireReader {
    /// The bytes are not a protobuf message.
    package struct Malformed: Error {}

    /// One field's value, as far as the wire format tells.
    package enum Value {
        case varint(UInt64)
        case bytes(ArraySlice<UInt8>)
        case fixed
    }

    private var bytes: ArraySlice<UInt8>

    package init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
    }

    /// Calls `body` with each field's number and value, in wire order.
    package func forEachField(_ body: (UInt64, Value) throws -> Void) throws {
        var index = bytes.startIndex
        func varint() throws(Malformed) -> UInt64 {
            var result: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                guard index < bytes.endIndex, shift < 64 else { throw Malformed() }
                let byte = bytes[index]
                index += 1
                result |= UInt64(byte & 0x7f) << shift
                if byte & 0x80 == 0 { return result }
                shift += 7
            }
        }
        while index < bytes.endIndex {
            let key = try varint()
            let number = key >> 3
            switch key & 7 {
            case 0:
                try body(number, .varint(try varint()))
            case 1, 5:
                let size = key & 7 == 1 ? 8 : 4
                guard bytes.endIndex - index >= size else { throw Malformed() }
                index += size
                try body(number, .fixed)
            case 2:
                let length = try varint()
                guard length <= UInt64(bytes.endIndex - index) else { throw Malformed() }
                let end = index + Int(length)
                try body(number, .bytes(bytes[index..<end]))
                index = end
            default:
                throw Malformed()
            }
        }
    }
}
