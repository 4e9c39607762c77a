import RetainAuth
import RetainProto
import RetainRPC
#if canImport(Glibc)
import Glibc
import RetainWire
#endif

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
                try await writer.send(Retain_V1_EchoResponse(text: request.text, index: index))
            }
        }
        router.unaryAsync(Retain_V1_Echo.sleep) { request, _ in
            try await Task.sleep(for: .milliseconds(Int(request.durationMs)))
            return Retain_V1_EchoResponse(text: request.text)
        }
        router.unary(Retain_V1_Echo.fail) { request, _ in
            throw RPCError(RPCStatusCode(rawValue: request.code), request.message)
        }
        let pid = getpid()
        router.unary(Retain_V1_Echo.inspect) { request, context in
            let header = context.header
            var metadata = header.metadata
            // The verified caller, when the server checks credentials: `issuer/id scopes`.
            if let caller = context.caller { metadata["x-retain-caller"] = "\(caller.issuer)/\(caller.id) \(caller.scopes)" }
            return Retain_V1_InspectResponse(
                userId: request.userId, text: request.text, pid: pid,
                deadlineRemainingUs: context.timeRemaining.map {
                    max(1, $0.components.seconds * 1_000_000 + $0.components.attoseconds / 1_000_000_000_000)
                } ?? 0,
                traceId: header.traceId, idempotencyKey: header.idempotencyKey, metadata: metadata)
        }
        return router
    }
}
