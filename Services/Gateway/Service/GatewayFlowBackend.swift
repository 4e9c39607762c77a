import GatewayCore
import NIOCore
import RetainProto
import RetainRPC
import RetainWire

/// The backends as the flows of one gateway call see them: each step is routed like a forwarded
/// call (to the user's owner when user-keyed), within the flow call's deadline, with its trace
/// id; writes carry their idempotency key in the call header, so the forwarder may safely send
/// them again after a broken connection. Each step carries the gateway's own service token with
/// just the scope its method needs (minted by the backend clients' credentials), never the
/// caller's credential. A backend's status reaches the flow as a ``BackendFailure``.
struct GatewayFlowBackend: FlowBackend {
    let forwarder: Forwarder
    let deadline: ContinuousClock.Instant
    let options: CallOptions

    func call<Input: ProtoMessage, Output: ProtoMessage>(
        _ method: RPCMethod<Input, Output>, _ request: Input, _ kind: FlowCallKind
    ) async throws -> Output {
        do {
            return try await send(method, request, kind)
        } catch let status as RPCError {
            throw BackendFailure(status)
        }
    }

    private func send<Input: ProtoMessage, Output: ProtoMessage>(
        _ method: RPCMethod<Input, Output>, _ request: Input, _ kind: FlowCallKind
    ) async throws -> Output {
        var buffer = ByteBuffer()
        buffer.writeProtoMessage(request)
        let route: Forwarder.Route
        do {
            route = try forwarder.route(method.path, request: buffer)
        } catch {
            throw RPCError(
                .unavailable, "no \(method.serviceName) backend in the gateway's topology",
                details: ["not_processed": "true"])
        }
        var options = options
        let idempotent: Bool
        switch kind {
        case .read:
            idempotent = true
        case .write(let key):
            options.idempotencyKey = key
            idempotent = false
        case .admin(let key):
            options.idempotencyKey = key
            idempotent = false
        }
        let readRoute = Forwarder.Route(
            backends: route.backends, input: route.input, userKeyed: route.userKeyed,
            streaming: false, idempotent: route.idempotent || idempotent)
        let answer = try await forwarder.answer(readRoute, path: method.path, request: buffer, options: options, deadline: deadline)
        return try answer.decodeProtoMessage(Output.self)
    }
}
