import Foundation
import RetainProto

/// `retain.v1.Reflection`: lists the services and methods a server answers and hands out the
/// protobuf descriptor set, so generic clients (the `retain` CLI, other languages) can call any
/// method without generated code.
enum ReflectionService {
    /// The serialized `google.protobuf.FileDescriptorSet` of every Retain `.proto` file.
    static let descriptorSet: [UInt8] = {
        let compact = retainDescriptorSetBase64.filter { !$0.isWhitespace }
        return Array(Data(base64Encoded: compact) ?? Data())
    }()

    /// The Reflection methods, listing `served` plus themselves.
    static func router(listing served: RPCRouter) -> RPCRouter {
        var router = RPCRouter()
        let ownMethods = Retain_V1_Reflection.methods
        let registered = Set((served.methods + ownMethods).map(\.path))
        let all = served.methods + ownMethods + served.advertised.filter { !registered.contains($0.path) }
        let services = Dictionary(grouping: all) { String($0.path.prefix { $0 != "/" }) }
            .map { name, methods in
                Retain_V1_ServiceInfo(
                    name: name,
                    methods: methods.sorted { $0.path < $1.path }.map { method in
                        Retain_V1_MethodInfo(
                            name: String(method.path.split(separator: "/").last ?? ""), path: method.path,
                            inputType: method.inputName, outputType: method.outputName,
                            serverStreaming: method.kind == .serverStreaming)
                    })
            }
            .sorted { $0.name < $1.name }
        let listing = Retain_V1_ListServicesResponse(services: services)
        router.unary(Retain_V1_Reflection.listServices) { _, _ in listing }
        router.unary(Retain_V1_Reflection.getDescriptorSet) { _, _ in
            Retain_V1_GetDescriptorSetResponse(fileDescriptorSet: descriptorSet)
        }
        return router
    }
}
