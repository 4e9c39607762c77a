import RetainProto
import RetainRPC
import RetainWire

/// Finds a method's request and answer types on a running server through its Reflection service.
struct MethodResolver {
    let client: RPCClient

    /// Every service the server lists.
    func services() async throws -> [Retain_V1_ServiceInfo] {
        try await client.unary(Retain_V1_Reflection.listServices, .init()).services
    }

    /// The method `path` (`retain.v1.Service/Method`), or a NOT_FOUND error listing what exists.
    func method(_ path: String) async throws -> Retain_V1_MethodInfo {
        let services = try await services()
        for service in services {
            if let method = service.methods.first(where: { $0.path == path }) { return method }
        }
        let known = services.flatMap { $0.methods.map(\.path) }.joined(separator: "\n  ")
        throw RPCError(.unimplemented, "the server has no method '\(path)'; it serves:\n  \(known)")
    }

    /// The local descriptor of a message the server names.
    static func descriptor(_ name: String) throws -> MessageDescriptor {
        guard let descriptor = MessageDescriptor.lookup(name) else {
            throw RPCError(.unimplemented, "this build of retain does not know the message \(name)")
        }
        return descriptor
    }
}
