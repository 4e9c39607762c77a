import GRPCCore
import NIOCore
import RetainProto

/// gRPC's standard server reflection (`grpc.reflection.v1.ServerReflection`, and the same under
/// `grpc.reflection.v1alpha` for older tools), answered from the Retain descriptor set so that
/// `grpcurl list`, `describe` and calls by name work without `.proto` files. A bidirectional
/// stream: one answer per request, in order.
///
/// ```
/// ServerReflectionRequest   1: host, 3: file_by_filename, 4: file_containing_symbol,
///                           5: file_containing_extension, 6: all_extension_numbers_of_type, 7: list_services
/// ServerReflectionResponse  1: valid_host, 2: original_request,
///                           4: FileDescriptorResponse (1: repeated bytes file_descriptor_proto),
///                           5: ExtensionNumberResponse (1: base_type_name, 2: repeated int32 extension_number),
///                           6: ListServiceResponse (1: repeated ServiceResponse (1: name)),
///                           7: ErrorResponse (1: int32 error_code, 2: error_message)
/// ```
struct ServerReflectionService: RegistrableRPCService {
    static let packages = ["grpc.reflection.v1", "grpc.reflection.v1alpha"]

    let index: DescriptorIndex
    /// The services to list, as they are now (the gateway's routes may change).
    let services: @Sendable () -> [String]

    func registerMethods<Transport: ServerTransport>(with router: inout GRPCCore.RPCRouter<Transport>) {
        for package in Self.packages {
            router.registerHandler(
                forMethod: MethodDescriptor(fullyQualifiedService: "\(package).ServerReflection", method: "ServerReflectionInfo"),
                deserializer: ByteBufferDeserializer(), serializer: ByteBufferSerializer()
            ) { request, _ in
                StreamingServerResponse { writer in
                    for try await message in request.messages {
                        try await writer.write(ByteBuffer(bytes: answer(to: Array(buffer: message))))
                    }
                    return [:]
                }
            }
        }
    }

    /// The `ServerReflectionResponse` to one `ServerReflectionRequest`.
    func answer(to request: [UInt8]) -> [UInt8] {
        var host = ""
        var question: (number: UInt64, text: String)?
        var response = ProtoWireWriter()
        do {
            try ProtoWireReader(request[...]).forEachField { number, value in
                guard case .bytes(let field) = value else { return }
                if number == 1 { host = String(decoding: field, as: UTF8.self) }
                if (3...7).contains(number) { question = (number, String(decoding: field, as: UTF8.self)) }
            }
        } catch {
            return Self.error(host: "", request: request, code: .invalidArgument, "malformed ServerReflectionRequest")
        }
        response.string(1, host)
        response.bytes(2, request)
        switch question {
        case (3, let file)?:
            guard let files = index.withDependencies(file) else {
                return Self.error(host: host, request: request, code: .notFound, "file '\(file.prefix(64))' not found")
            }
            response.bytes(4, Self.fileDescriptors(files))
        case (4, let symbol)?:
            guard let file = index.fileBySymbol[symbol], let files = index.withDependencies(file) else {
                return Self.error(host: host, request: request, code: .notFound, "symbol '\(symbol.prefix(64))' not found")
            }
            response.bytes(4, Self.fileDescriptors(files))
        case (5, _)?:
            return Self.error(host: host, request: request, code: .notFound, "the Retain contract declares no extensions")
        case (6, let type)?:
            guard index.fileBySymbol[type] != nil else {
                return Self.error(host: host, request: request, code: .notFound, "type '\(type.prefix(64))' not found")
            }
            var numbers = ProtoWireWriter()
            numbers.string(1, type)
            response.bytes(5, numbers.bytes)
        case (7, _)?:
            var list = ProtoWireWriter()
            for service in services() where index.services.contains(service) {
                var entry = ProtoWireWriter()
                entry.string(1, service)
                list.bytes(1, entry.bytes)
            }
            response.bytes(6, list.bytes)
        default:
            return Self.error(host: host, request: request, code: .invalidArgument, "the request asks for nothing this server knows")
        }
        return response.bytes
    }

    private static func fileDescriptors(_ files: [DescriptorIndex.File]) -> [UInt8] {
        var writer = ProtoWireWriter()
        for file in files { writer.bytes(1, file.bytes) }
        return writer.bytes
    }

    private static func error(host: String, request: [UInt8], code: RPCError.Code, _ message: String) -> [UInt8] {
        var response = ProtoWireWriter()
        response.string(1, host)
        response.bytes(2, request)
        var error = ProtoWireWriter()
        error.varint(1, UInt64(code.rawValue))
        error.string(2, message)
        response.bytes(7, error.bytes)
        return response.bytes
    }
}
