import RetainAuth
import RetainProto
import RetainWire

/// What serves one call, as a server finds it for a call from a connection and for one handed
/// over in process alike: a registered method, else the router's fallback (a proxy's
/// catch-all), with the method's metrics and the access its callers need.
struct CallRoute {
    /// The method's path as served (the name the call gave, for the fallback).
    let path: String
    let handler: RPCRouter.Handler
    let metrics: MethodMetrics
    let access: MethodAccess

    /// The route of a call whose header named `method` (registered) or `name` (any other);
    /// nil when neither a registered method nor the fallback serves it (counted as unknown).
    init?(
        method: ServerMethod?, name: String?, fallback: RPCRouter.FallbackHandler?, metrics: ServerMetrics,
        authenticating: Bool
    ) {
        if let method {
            path = method.entry.method.path
            handler = method.entry.handler
            self.metrics = method.metrics
            access = method.access
        } else if let fallback, let name, !name.isEmpty {
            path = name
            handler = .deferred { request, context, responder, _ in fallback(name, request, context, responder) }
            self.metrics = metrics.fallbackMethod(name)
            access = authenticating ? MethodAccessTable.access(for: name) : .open
        } else {
            metrics.unknownMethod()
            return nil
        }
    }

    /// The status of a call no method serves.
    static func unknownMethod(_ name: String?) -> RPCError {
        RPCError(.unimplemented, "unknown method \(FieldFormat.quoted(name ?? ""))")
    }

    /// The status of a call that arrives while the server drains.
    static let draining = RPCError(
        .unavailable, "server is draining: call not processed, retry elsewhere", details: ["not_processed": "true"])
}
