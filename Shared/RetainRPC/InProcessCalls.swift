public import Logging
public import NIOCore
import RetainAuth
import RetainProto
import RetainWire
import Synchronization

/// A server's methods, for calls handed over inside the process instead of over a connection
/// (``RPCServer/inProcessCalls``; the gateway's gRPC front door): each call runs the handler
/// that a call from a connection with the same call header would run, after the same checks
/// (draining, unknown method, credential, method access, rate limit), with its deadline, its
/// cancellation and the method's metrics, and without encoding a frame, a socket or a decode on
/// the way.
///
/// Handlers run on the thread that starts the call (as on a connection, they must not block),
/// and answer from any thread through their ``ServerResponder``.
public final class InProcessCalls: Sendable {
    private let methods: MethodTable
    private let fallback: RPCRouter.FallbackHandler?
    private let metrics: ServerMetrics
    private let authenticator: (any CallAuthenticator)?
    private let group: any EventLoopGroup
    private let logger: Logger
    private let draining = Atomic<Bool>(false)
    /// Request ids for the calls' contexts and logs: every call gets its own.
    private let lastRequestID = Atomic<UInt32>(0)

    init(
        methods: MethodTable, fallback: RPCRouter.FallbackHandler?, metrics: ServerMetrics,
        authenticator: (any CallAuthenticator)?, group: any EventLoopGroup, logger: Logger
    ) {
        self.methods = methods
        self.fallback = fallback
        self.metrics = metrics
        self.authenticator = authenticator
        self.group = group
        self.logger = logger
    }

    /// From now on calls are refused UNAVAILABLE (`not_processed`), as on a draining connection.
    func beginDraining() {
        draining.store(true, ordering: .releasing)
    }

    /// Starts a call of `path` (`retain.v1.Echo/Echo`) with its encoded request message; `options`
    /// are its call header: credential, deadline (counted from now), trace id, idempotency key
    /// and metadata. Read the answers and the status from the returned call; a call refused
    /// before its handler ran ends at once with the refusal's status.
    public func start(path: String, request: ByteBuffer, options: CallOptions) -> InProcessCall {
        guard !draining.load(ordering: .acquiring) else { return InProcessCall(refused: CallRoute.draining) }
        var name = path
        let method = name.withUTF8 { methods.lookup(UnsafeRawBufferPointer($0)) }
        guard
            let route = CallRoute(
                method: method, name: method == nil ? path : nil, fallback: fallback, metrics: metrics,
                authenticating: authenticator != nil)
        else {
            return InProcessCall(refused: CallRoute.unknownMethod(path))
        }
        var caller: Caller?
        if authenticator != nil {
            // The same checks as a connection's first call with this credential.
            var admission = CallAdmission(authenticator: authenticator)
            do throws(RPCError) {
                caller = try admission.check(credential: options.authorization, access: route.access, method: route.path)
            } catch {
                logger.debug("call refused", metadata: ["rpc.method": "\(route.path)", "rpc.status": "\(error.code)"])
                route.metrics.finished(error.code, since: .now())
                return InProcessCall(refused: error)
            }
        }
        let header = options.header(method: route.path)
        var headerBytes = ByteBuffer()
        headerBytes.writeProtoMessage(header)
        let started = NIODeadline.now()
        let timeout = header.timeoutUs
        let deadline: NIODeadline? = timeout == 0 ? nil : started + .microseconds(Int64(min(timeout, UInt64(Int64.max / 1000))))
        let requestID = lastRequestID.wrappingAdd(1, ordering: .relaxed).newValue
        let context = ServerContext(
            method: route.path, headerBytes: headerBytes, requestID: requestID, deadline: deadline,
            remoteAddress: nil, logger: logger, caller: caller)
        let call = InProcessCall(metrics: route.metrics, started: started)
        if let deadline { call.setDeadline(deadline, on: group.next()) }
        let responder = ServerResponder(.inProcess(call))
        switch route.handler {
        case .inline(let body):
            var answer = ByteBuffer()
            do {
                if let gate = try body(request, context, &answer, ProtoArena()) {
                    let held = answer
                    gate.wait { error in
                        if let error { responder.finish(error) } else { responder.succeed(encoded: held) }
                    }
                } else {
                    responder.succeed(encoded: answer)
                }
            } catch {
                responder.finish(error)
            }
        case .deferred(let body):
            body(request, context, responder, ProtoArena())
        }
        return call
    }
}
