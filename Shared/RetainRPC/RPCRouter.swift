public import NIOCore
import RetainAuth
public import RetainProto

/// The methods a server answers, registered before it starts. Unknown methods get UNIMPLEMENTED.
public struct RPCRouter: Sendable {
    /// How a registered method runs.
    enum Handler: Sendable {
        /// Runs on the connection's event loop and writes its answer message into the buffer; a
        /// returned gate holds the answer back until it opens.
        case inline(
            @Sendable (_ request: ByteBuffer, _ context: ServerContext, _ answer: inout ByteBuffer, _ arena: ProtoArena) throws ->
                AnswerGate?)
        /// Answers later, from any thread, through the responder.
        case deferred(
            @Sendable (_ request: ByteBuffer, _ context: ServerContext, _ responder: ServerResponder, _ arena: ProtoArena) -> Void)
    }

    struct Entry: Sendable {
        let method: AnyRPCMethod
        let handler: Handler
    }

    private(set) var entries: [String: Entry] = [:]

    /// Answers calls whose path no registered method matches (a proxy's catch-all).
    public typealias FallbackHandler =
        @Sendable (
            _ path: String, _ request: ByteBuffer, _ context: ServerContext, _ responder: ServerResponder
        ) -> Void

    /// The catch-all for unknown paths, if any; without one they get UNIMPLEMENTED.
    private(set) var fallbackHandler: FallbackHandler?

    /// Methods the fallback answers that reflection lists too (a proxy's forwarded services).
    public private(set) var advertised: [AnyRPCMethod] = []

    public init() {}

    /// Every registered method.
    public var methods: [AnyRPCMethod] { entries.values.map(\.method).sorted { $0.path < $1.path } }

    /// The registered methods with their metrics, as a server serves them, and the advertised
    /// methods answered by the fallback: a server finds those in its method table too, so a
    /// proxy's known methods cost no path string, no metrics lookup and no handler made per
    /// call (the fallback still answers any other path).
    func serverMethods(metrics: ServerMetrics) -> [String: ServerMethod] {
        var methods = entries.mapValues {
            ServerMethod(entry: $0, metrics: metrics.method($0.method.path), access: MethodAccessTable.access(for: $0.method.path))
        }
        guard let fallbackHandler else { return methods }
        for method in advertised where methods[method.path] == nil {
            let path = method.path
            let handler = Handler.deferred { request, context, responder, _ in fallbackHandler(path, request, context, responder) }
            methods[path] = ServerMethod(
                entry: Entry(method: method, handler: handler), metrics: metrics.method(path),
                access: MethodAccessTable.access(for: path))
        }
        return methods
    }

    private mutating func add(_ method: AnyRPCMethod, _ handler: Handler) {
        precondition(entries[method.path] == nil, "method \(method.path) registered twice")
        entries[method.path] = Entry(method: method, handler: handler)
    }

    /// Registers a unary method answered synchronously on the connection's event loop: the
    /// fastest path, for handlers that only touch memory and never block.
    public mutating func unary<I, O>(
        _ method: RPCMethod<I, O>, _ body: @escaping @Sendable (I, ServerContext) throws -> O
    ) {
        precondition(method.kind == .unary)
        add(
            AnyRPCMethod(method),
            .inline { request, context, answer, arena in
                let input = try request.decodeProtoMessage(I.self, arena: arena)
                arena.reset()
                answer.writeProtoMessage(try body(input, context), arena: arena)
                return nil
            })
    }

    /// Registers a unary method answered on the connection's event loop whose answer may have to
    /// wait: `body` returns the answer and, when it must not go out yet, a gate (a read of state
    /// not yet durable). Without a gate it is as fast as ``unary(_:_:)``.
    public mutating func unaryGated<I, O>(
        _ method: RPCMethod<I, O>, _ body: @escaping @Sendable (I, ServerContext) throws -> (O, AnswerGate?)
    ) {
        precondition(method.kind == .unary)
        add(
            AnyRPCMethod(method),
            .inline { request, context, answer, arena in
                let input = try request.decodeProtoMessage(I.self, arena: arena)
                arena.reset()
                let (output, gate) = try body(input, context)
                answer.writeProtoMessage(output, arena: arena)
                return gate
            })
    }

    /// Registers a unary method that answers later through the responder (for example once a
    /// write is durable). The body runs on the event loop and must not block.
    public mutating func unaryDeferred<I, O>(
        _ method: RPCMethod<I, O>, _ body: @escaping @Sendable (I, ServerContext, ServerResponder) throws -> Void
    ) {
        unaryDeferredKeepingBytes(method) { input, _, context, responder in try body(input, context, responder) }
    }

    /// Registers a unary method like ``unaryDeferred(_:_:)`` whose body also receives the request
    /// message's bytes as they arrived (decompressed), valid for the call: for a write that logs
    /// the request as it came instead of encoding the decoded message again.
    public mutating func unaryDeferredKeepingBytes<I, O>(
        _ method: RPCMethod<I, O>,
        _ body: @escaping @Sendable (I, _ requestBytes: ByteBuffer, ServerContext, ServerResponder) throws -> Void
    ) {
        precondition(method.kind == .unary)
        add(
            AnyRPCMethod(method),
            .deferred { request, context, responder, arena in
                do {
                    try body(try request.decodeProtoMessage(I.self, arena: arena), request, context, responder)
                } catch {
                    responder.finish(error)
                }
            })
    }

    /// Registers a unary method run as a task, for handlers that await.
    public mutating func unaryAsync<I, O>(
        _ method: RPCMethod<I, O>, _ body: @escaping @Sendable (I, ServerContext) async throws -> O
    ) {
        precondition(method.kind == .unary)
        add(
            AnyRPCMethod(method),
            Self.task(I.self) { input, context, responder in
                responder.succeed(try await body(input, context))
            })
    }

    /// Registers a server-streaming method run as a task; answers go through the writer and the
    /// call ends with OK when the body returns, or with the status of what it throws.
    public mutating func serverStreaming<I, O>(
        _ method: RPCMethod<I, O>,
        _ body: @escaping @Sendable (I, ServerContext, RPCStreamWriter<O>) async throws -> Void
    ) {
        precondition(method.kind == .serverStreaming)
        add(
            AnyRPCMethod(method),
            Self.task(I.self) { input, context, responder in
                try await body(input, context, RPCStreamWriter(responder: responder))
                responder.finish(nil)
            })
    }

    /// Routes every call whose path matches no registered method to `body`, with the request
    /// message still encoded (decompressed). The body runs on the event loop, must not block, and
    /// answers through the responder (`succeed(encoded:)`, `send(encoded:)`, `finish`). For
    /// proxies such as the gateway; ordinary services never need it.
    public mutating func fallback(_ body: @escaping FallbackHandler) {
        precondition(fallbackHandler == nil, "fallback registered twice")
        fallbackHandler = body
    }

    /// A handler that decodes the request on the event loop, then runs `body` as a task that the
    /// call's cancellation or deadline cancels; what `body` throws ends the call.
    private static func task<I: ProtoMessage>(
        _ type: I.Type, _ body: @escaping @Sendable (I, ServerContext, ServerResponder) async throws -> Void
    ) -> Handler {
        .deferred { request, context, responder, arena in
            let input: I
            do {
                input = try request.decodeProtoMessage(I.self, arena: arena)
            } catch {
                return responder.finish(error)
            }
            let task = Task {
                do {
                    try await body(input, context, responder)
                } catch {
                    responder.finish(error)
                }
            }
            responder.onCancel { task.cancel() }
        }
    }

    /// Adds every method of `other`, and its fallback if this router has none.
    public mutating func merge(_ other: RPCRouter) {
        for entry in other.entries.values { add(entry.method, entry.handler) }
        if fallbackHandler == nil { fallbackHandler = other.fallbackHandler }
        advertise(other.advertised)
    }

    /// Lists `methods` in reflection as served, though the fallback answers them (the
    /// gateway's forwarded services); methods registered here are not listed twice.
    public mutating func advertise(_ methods: [AnyRPCMethod]) {
        let known = Set(entries.keys).union(advertised.map(\.path))
        advertised += methods.filter { !known.contains($0.path) }
    }
}

/// Sends the answers of a server-streaming call.
public struct RPCStreamWriter<Output: ProtoMessage>: Sendable {
    let responder: ServerResponder

    /// Sends one answer at once, whatever the caller has room for: answers the caller's window
    /// or the connection cannot take yet are held by the server. Throws CancellationError once
    /// the call was cancelled.
    public func write(_ message: Output) throws {
        try Task.checkCancellation()
        responder.send(message)
    }

    /// Sends one answer after every answer handed to the call before, from whichever threads
    /// (``write(_:)`` writes at once when called on the connection's event loop, overtaking
    /// answers other threads have queued there). For producers on several threads whose order
    /// matters. Throws CancellationError once the call was cancelled.
    public func writeInOrder(_ message: Output) throws {
        try Task.checkCancellation()
        responder.sendInOrder(message)
    }

    /// Sends one answer and waits until the call can take another: the caller's flow-control
    /// window has room (PROTOCOL.md §15) and the connection's unsent answers are under its limit.
    /// A producer that sends with this is held back by a slow reader instead of making the
    /// server buffer. Throws CancellationError once the call has ended.
    public func send(_ message: Output) async throws {
        try Task.checkCancellation()
        try await responder.sendWhenReady(message)
    }
}

/// A registered method as a server runs it: its handler, its metrics and what its callers need.
struct ServerMethod: Sendable {
    let entry: RPCRouter.Entry
    let metrics: MethodMetrics
    let access: MethodAccess
}
