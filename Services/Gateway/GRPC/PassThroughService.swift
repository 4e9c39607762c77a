import GRPCCore
import NIOCore
import RetainProto
import RetainRPC
import RetainWire

/// Every method of the Retain contract, served over gRPC by calling the same method on the
/// gateway's native port: the request's bytes go out as they came, the answers' bytes come back
/// as they were sent, and the native server applies everything it applies to its own callers
/// (credentials, scopes, rate limits, routing, retries). Unary methods and server-streaming
/// methods, as the `.proto` declares them.
struct PassThroughService: RegistrableRPCService {
    /// The client of the gateway's own native port.
    let native: RPCClient
    /// The methods to serve (every method of the contract by default).
    let methods: [MethodSchema]
    /// Whether the front door drains (calls then run to their end).
    let state: FrontDoorState

    init(native: RPCClient, state: FrontDoorState, methods: [MethodSchema] = Array(MethodCatalog.methods.values)) {
        self.native = native
        self.state = state
        self.methods = methods.sorted { $0.path < $1.path }
    }

    func registerMethods<Transport: ServerTransport>(with router: inout GRPCCore.RPCRouter<Transport>) {
        for method in methods {
            let service = method.serviceName
            let descriptor = MethodDescriptor(
                fullyQualifiedService: service,
                method: String(method.path.dropFirst(service.count + 1)))
            let path = method.path
            if method.serverStreaming {
                router.registerHandler(
                    forMethod: descriptor, deserializer: ByteBufferDeserializer(),
                    serializer: ByteBufferSerializer()
                ) { request, _ in
                    try await serverStreaming(path: path, request: request)
                }
            } else {
                router.registerHandler(
                    forMethod: descriptor, deserializer: ByteBufferDeserializer(),
                    serializer: ByteBufferSerializer()
                ) { request, _ in
                    try await unary(path: path, request: request)
                }
            }
        }
    }

    /// One unary call: exactly one request message, one answer or a status.
    func unary(path: String, request: StreamingServerRequest<ByteBuffer>) async throws -> StreamingServerResponse<ByteBuffer> {
        let single = try await ServerRequest(stream: request)
        let call = try NativeCall(metadata: single.metadata)
        let native = native
        let answer = try await call.run(draining: state) {
            try await native.unaryRaw(path: path, request: single.message, options: call.options)
        }
        return StreamingServerResponse(single: ServerResponse(message: answer))
    }

    /// One server-streaming call: each native answer is written as it arrives, then the status.
    func serverStreaming(path: String, request: StreamingServerRequest<ByteBuffer>) async throws -> StreamingServerResponse<ByteBuffer> {
        let single = try await ServerRequest(stream: request)
        let call = try NativeCall(metadata: single.metadata)
        let (native, state) = (native, state)
        return StreamingServerResponse { writer in
            try await call.run(draining: state) {
                for try await message in native.serverStreamingRaw(path: path, request: single.message, options: call.options) {
                    try await writer.write(message)
                }
            }
            return [:]
        }
    }
}
