public import RetainWire
import RetainClock

/// Checks the credential of every call a server receives (the RPC runtime calls it before any
/// handler runs).
///
/// The runtime may remember the ``Caller`` that ``authenticate(_:)`` returned for a credential
/// on one connection until ``Caller/expiresAtMs``, so `authenticate` must not count calls;
/// per-call limits go in ``admit(_:method:)``.
public protocol CallAuthenticator: Sendable {
    /// Verifies the call header's `authorization` ("" when the call carries none); throws
    /// UNAUTHENTICATED with a message that holds no secret material.
    func authenticate(_ authorization: String) throws(RPCError) -> Caller
    /// Runs for each call once its scope was checked; throws to refuse it (rate limits).
    func admit(_ caller: Caller, method: String) throws(RPCError)
    /// The current time, Unix ms (tests may fix it).
    func nowMs() -> Int64
}

extension CallAuthenticator {
    public func admit(_ caller: Caller, method: String) throws(RPCError) {}
    public func nowMs() -> Int64 { WallClock.nowMs() }
}

extension MethodAccess {
    /// Throws PERMISSION_DENIED naming the missing scope when `caller` may not call `method`.
    public func check(_ caller: Caller, method: String) throws(RPCError) {
        guard case .scope(let required) = self, !caller.scopes.allows(required) else { return }
        throw RPCError(
            .permissionDenied,
            "\(method) needs scope \(required) (caller '\(caller.id)' has \(caller.scopes.isEmpty ? "none" : caller.scopes.description))",
            details: ["required_scope": required.description])
    }
}
