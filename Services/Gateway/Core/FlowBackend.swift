public import RetainProto

/// How a flow step calls a backend: the gateway routes it like any call (by service, and to the
/// user's owner when the request is user-keyed) and passes the flow's deadline and trace on.
public protocol FlowBackend: Sendable {
    /// Calls `method` with `request` and returns the answer; a backend's refusal throws a
    /// ``BackendFailure``.
    func call<Input: ProtoMessage, Output: ProtoMessage>(
        _ method: RPCMethod<Input, Output>, _ request: Input, _ kind: FlowCallKind
    ) async throws -> Output
}

/// What a flow's call does, which decides whether the gateway may send it again after a
/// broken connection.
public enum FlowCallKind: Sendable, Hashable {
    /// Reads only: always safe to repeat.
    case read
    /// Changes state, idempotently under `key` (sent as the call header's idempotency key):
    /// a repeat answers the first answer.
    case write(key: String)
    /// An idempotent change that needs the gateway's administrative credential (opening a
    /// budget account).
    case admin(key: String)
}
