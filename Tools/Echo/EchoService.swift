import RetainProto
import RetainRPC

/// The Echo service: a small service that exercises every kind of handler in the runtime.
enum EchoService {
    static var router: RPCRouter {
        var router = RPCRouter()
        router.unary(Retain_V1_Echo.echo) { request, _ in
            Retain_V1_EchoResponse(text: request.text, payload: request.payload)
        }
        router.serverStreaming(Retain_V1_Echo.expand) { request, _, writer in
            for index in 0..<request.count {
                if index > 0, request.intervalMs > 0 {
                    try await Task.sleep(for: .milliseconds(Int(request.intervalMs)))
                }
                try writer.write(Retain_V1_EchoResponse(text: request.text, index: index))
            }
        }
        router.unaryAsync(Retain_V1_Echo.sleep) { request, _ in
            try await Task.sleep(for: .milliseconds(Int(request.durationMs)))
            return Retain_V1_EchoResponse(text: request.text)
        }
        router.unary(Retain_V1_Echo.fail) { request, _ in
            throw RPCError(RPCStatusCode(rawValue: request.code), request.message)
        }
        return router
    }
}
