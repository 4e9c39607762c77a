public import GatewayCore
public import Logging
public import NIOCore
public import NIOPosix
public import RetainAuth
import RetainProto
public import RetainRPC

/// Forwards calls to backend instances: finds the method's service in the topology, reads the
/// request's `user_id` when the method is user-keyed (field 1, from the protobuf-c descriptor),
/// picks instances with the service's ``RoutePlanner``, passes the caller's header on with the
/// deadline shortened by the time already spent, and tries again where ``RetryPolicy`` says it
/// is safe. Request and answer bytes pass through without being decoded.
///
/// The caller's credential is never passed on: a forwarded call carries a fresh service token
/// that the gateway mints for the verified caller (subject = its key id, scopes = its scopes),
/// and the gateway's own calls (flows) carry the gateway's token with just the scope each needs.
public final class Forwarder: Sendable {
    /// Timeouts, retries and connections.
    public struct Configuration: Sendable {
        /// Deadline given to unary calls whose caller set none. Default 30 s.
        public var defaultTimeout: Duration = .seconds(30)
        /// When and how often to try again.
        public var retry = RetryPolicy()
        /// Connections to each backend instance. Default 1.
        public var connectionsPerBackend = 1
        /// How long to wait for a TCP connection to a backend. Default 1 s.
        public var connectTimeout: TimeAmount = .seconds(1)
        /// TLS to the backends (one context shared by every backend client), with a client
        /// certificate for backends that require one; nil calls them in plaintext. Default nil.
        public var tls: ClientTLS?

        public init() {}
    }

    /// How calls of one method are routed.
    struct Route: Sendable {
        let backends: ServiceBackends
        /// The request's type, when the contract knows the method.
        let input: MessageDescriptor?
        let userKeyed: Bool
        let streaming: Bool
        let idempotent: Bool
    }

    /// Backend services by full name.
    let services: [String: ServiceBackends]
    /// Routes of the methods the contract knows, by path.
    private let routes: [String: Route]
    let configuration: Configuration
    private let logger: Logger
    /// Mints the tokens of forwarded calls and of the gateway's own; nil when the suite runs
    /// without credential checks.
    let minter: TokenMinter?

    /// Opens (lazily) one client per instance of `topology`; `minter` signs what they send.
    public init(topology: Topology, configuration: Configuration = Configuration(), logger: Logger,
                group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, minter: TokenMinter? = nil) {
        self.minter = minter
        var clientConfiguration = RPCClient.Configuration()
        clientConfiguration.credentials = minter
        clientConfiguration.connectTimeout = configuration.connectTimeout
        clientConfiguration.connectionsPerAddress = configuration.connectionsPerBackend
        clientConfiguration.keepaliveInterval = .seconds(10)
        clientConfiguration.tls = configuration.tls
        var services: [String: ServiceBackends] = [:]
        for service in topology.services.values {
            let backends = service.instances.map { instance in
                Backend(service: service.name, instance: instance,
                        client: RPCClient(host: instance.host, port: instance.port, configuration: clientConfiguration,
                                          group: group, logger: logger))
            }
            services[service.name] = ServiceBackends(
                planner: RoutePlanner(service: service, virtualNodes: topology.virtualNodes), backends: backends)
        }
        var routes: [String: Route] = [:]
        for schema in MethodCatalog.methods.values {
            guard let backends = services[schema.serviceName] else { continue }
            let method = String(schema.path.drop { $0 != "/" }.dropFirst())
            routes[schema.path] = Route(
                backends: backends, input: schema.inputDescriptor, userKeyed: schema.isUserKeyed,
                streaming: schema.serverStreaming, idempotent: backends.planner.service.idempotentMethods.contains(method))
        }
        self.services = services
        self.routes = routes
        self.configuration = configuration
        self.logger = logger
    }

    /// Closes every backend connection.
    public func close() async {
        for service in services.values {
            for backend in service.backends { await backend.client.close() }
        }
    }

    // MARK: Routing

    /// The route of `path`: a method the contract knows, or any other method of a service in
    /// the topology (then unary, not user-keyed, not idempotent).
    func route(_ path: String) throws(RPCError) -> Route {
        if let route = routes[path] { return route }
        let service = String(path.prefix { $0 != "/" })
        guard let backends = services[service], path.count > service.count + 1 else {
            throw RPCError(.unimplemented, "unknown method \(FieldFormat.quoted(path)): no backend in the gateway's topology serves \(FieldFormat.shortened(service))")
        }
        return Route(backends: backends, input: nil, userKeyed: false, streaming: false, idempotent: false)
    }

    /// The user a request is about, for a user-keyed route; nil otherwise.
    func userID(_ route: Route, request: ByteBuffer) throws(RPCError) -> String? {
        guard route.userKeyed, let input = route.input else { return nil }
        let user = request.withUnsafeReadableBytes { input.readStringField(1, from: $0) }
        guard let user else {
            throw RPCError(.invalidArgument, "malformed request: \(request.readableBytes) bytes do not decode as \(input.fullName)")
        }
        return user
    }

    // MARK: Calls

    /// Serves a call that arrived at the gateway's fallback: forwards it and answers through
    /// `responder`; cancelling the call cancels the forwarded one.
    public func forward(path: String, request: ByteBuffer, context: ServerContext, responder: ServerResponder) {
        let route: Route
        do {
            route = try self.route(path)
        } catch {
            return responder.finish(error)
        }
        let header = context.header
        let deadline = context.timeRemaining.map { ContinuousClock.now + $0 }
        let task = Task {
            do {
                let user = try self.userID(route, request: request)
                var options = self.options(from: header)
                options.authorization = self.authorization(for: context.caller)
                if route.streaming {
                    try await self.stream(route, path: path, user: user, request: request, options: options,
                                          deadline: deadline, responder: responder)
                } else {
                    let answer = try await self.unary(route, path: path, user: user, request: request, options: options,
                                                      deadline: deadline ?? ContinuousClock.now + self.configuration.defaultTimeout)
                    responder.succeed(encoded: answer)
                }
            } catch {
                responder.finish(error)
            }
        }
        responder.onCancel { task.cancel() }
    }

    /// The options of a forwarded call: the caller's trace id (one is made up when the caller
    /// sent none), idempotency key and metadata, but never its credential.
    func options(from header: Retain_V1_CallHeader) -> CallOptions {
        CallOptions(traceID: header.traceId.isEmpty ? Self.newTraceID() : header.traceId,
                    idempotencyKey: header.idempotencyKey, metadata: header.metadata)
    }

    /// The credential of a call forwarded for `caller`: a token for it with its scopes, or ""
    /// when the gateway checks no credentials.
    func authorization(for caller: Caller?) -> String {
        guard let minter, let caller else { return "" }
        return minter.authorization(subject: caller.id, scopes: caller.scopes)
    }

    /// A random 128-bit trace id in hex.
    static func newTraceID() -> String {
        let high = String(UInt64.random(in: .min ... .max), radix: 16)
        let low = String(UInt64.random(in: .min ... .max), radix: 16)
        return String(repeating: "0", count: 16 - high.count) + high + String(repeating: "0", count: 16 - low.count) + low
    }

    /// A unary call with its encoded request, answered with the encoded answer, tried again on
    /// the planner's next candidate where the retry policy allows, until `deadline`.
    func unary(_ route: Route, path: String, user: String?, request: ByteBuffer, options: CallOptions,
               deadline: ContinuousClock.Instant) async throws -> ByteBuffer {
        let candidates = route.backends.candidates(userID: user)
        var attempt = 0
        while true {
            let backend = candidates[attempt % candidates.count]
            if attempt >= candidates.count {
                try await pause(before: attempt - candidates.count, deadline: deadline)
            }
            var attemptOptions = options
            let remaining = deadline - ContinuousClock.now
            guard remaining > .zero else { throw RPCError(.deadlineExceeded, "deadline exceeded") }
            attemptOptions.timeout = remaining
            let started = ContinuousClock.now
            do {
                let answer = try await backend.client.unaryRaw(path: path, request: request, options: attemptOptions)
                backend.recordCall(code: .ok, millis: Self.millis(since: started))
                return answer
            } catch let error as RPCError {
                backend.recordCall(code: error.code, millis: Self.millis(since: started), error: error.message)
                if error.details["not_processed"] == "true", error.code == .unavailable { backend.markUnreachable(error) }
                attempt += 1
                guard attempt < configuration.retry.maximumAttempts, !Task.isCancelled,
                      RetryPolicy.mayRetry(after: error, idempotencyKey: options.idempotencyKey,
                                           methodIsIdempotent: route.idempotent) else {
                    throw error
                }
                logger.debug("retrying call", metadata: [
                    "method": "\(path)", "instance": "\(backend.instance.id)", "error": "\(error)", "attempt": "\(attempt)",
                ])
            }
        }
    }

    /// A server-streaming call: answers pass through as they come. It is tried again only while
    /// no answer has been passed on yet.
    func stream(_ route: Route, path: String, user: String?, request: ByteBuffer, options: CallOptions,
                deadline: ContinuousClock.Instant?, responder: ServerResponder) async throws {
        let candidates = route.backends.candidates(userID: user)
        var attempt = 0
        while true {
            let backend = candidates[attempt % candidates.count]
            if attempt >= candidates.count, let deadline {
                try await pause(before: attempt - candidates.count, deadline: deadline)
            }
            var attemptOptions = options
            if let deadline {
                let remaining = deadline - ContinuousClock.now
                guard remaining > .zero else { throw RPCError(.deadlineExceeded, "deadline exceeded") }
                attemptOptions.timeout = remaining
            }
            let started = ContinuousClock.now
            var forwarded = false
            do {
                for try await message in backend.client.serverStreamingRaw(path: path, request: request, options: attemptOptions) {
                    forwarded = true
                    responder.send(encoded: message)
                }
                backend.recordCall(code: .ok, millis: Self.millis(since: started))
                responder.finish(nil)
                return
            } catch let error as RPCError {
                backend.recordCall(code: error.code, millis: Self.millis(since: started), error: error.message)
                if error.details["not_processed"] == "true", error.code == .unavailable { backend.markUnreachable(error) }
                attempt += 1
                guard !forwarded, attempt < configuration.retry.maximumAttempts, !Task.isCancelled,
                      RetryPolicy.mayRetry(after: error, idempotencyKey: options.idempotencyKey,
                                           methodIsIdempotent: route.idempotent) else {
                    throw error
                }
            }
        }
    }

    /// Waits the retry backoff before a repeat on an instance that already failed this call.
    private func pause(before repeatIndex: Int, deadline: ContinuousClock.Instant) async throws {
        let backoff = configuration.retry.backoff * (1 << min(repeatIndex, 6))
        let wakeUp = min(ContinuousClock.now + backoff, deadline)
        try await Task.sleep(until: wakeUp, clock: .continuous)
    }

    private static func millis(since start: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
    }
}
