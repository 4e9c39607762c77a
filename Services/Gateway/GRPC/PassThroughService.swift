import GRPCCore
import NIOCore
import RetainProto
import RetainRPC
import RetainWire

/// Every method of the Retain contract, served over gRPC by handing the call to the gateway's
/// native server in process (``InProcessCalls``): the request's bytes go to the method's handler
/// as they came, the answers' bytes come back as the handler gave them, and the native server
/// applies everything it applies to its own callers (credentials, scopes, rate limits, routing,
/// retries). Unary methods and server-streaming methods, as the `.proto` declares them.
struct PassThroughService: RegistrableRPCService {
    /// The gateway's native server, in process.
    let native: InProcessCalls
    /// The methods to serve (every method of the contract by default).
    let methods: [MethodSchema]
    /// Whether the front door drains (calls then run to their end).
    let state: FrontDoorState

    init(native: InProcessCalls, state: FrontDoorState, methods: [MethodSchema] = Array(MethodCatalog.methods.values)) {
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
        let answers = native.start(path: path, request: single.message, options: call.options)
        defer { answers.cancel() }
        let answer = try await call.run(answers, draining: state) { try await answers.answer() }
        return StreamingServerResponse(single: ServerResponse(message: answer))
    }

    /// One server-streaming call: each native answer is written as it arrives, then the status.
    func serverStreaming(path: String, request: StreamingServerRequest<ByteBuffer>) async throws -> StreamingServerResponse<ByteBuffer> {
        let single = try await ServerRequest(stream: request)
        let call = try NativeCall(metadata: single.metadata)
        let (native, state) = (native, state)
        return StreamingServerResponse { writer in
            let answers = native.start(path: path, request: single.message, options: call.options)
            // A caller gone while answers still come ends the native call too.
            defer { answers.cancel() }
            try await call.run(answers, draining: state) {
                while let message = try await answers.next() {
                    try await writer.write(message)
                }
            }
            return [:]
        }
    }
}
