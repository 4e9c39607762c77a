public import GatewayCore
public import Logging
public import NIOCore
public import NIOPosix
public import RetainAuth
import RetainProto
public import RetainRPC
import RetainWire
import Synchronization

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
        /// Connections to each backend instance, spread over the event loops; a forwarded call
        /// uses the one on the event loop its caller's connection is served on, when there is
        /// one, so it crosses no thread. Default: one per core (the event loops of
        /// `MultiThreadedEventLoopGroup.singleton`).
        public var connectionsPerBackend = min(16, System.coreCount)
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

    /// What the contract says about one method.
    private struct Method: Sendable {
        /// Full service name.
        let service: String
        /// Method name, e.g. `GetProfile`.
        let name: String
        let input: MessageDescriptor?
        let userKeyed: Bool
        let streaming: Bool
    }

    /// What calls are routed by now; replaced as a whole when a ring changes.
    private struct Routing: Sendable {
        /// Backend services by full name.
        var services: [String: ServiceBackends] = [:]
        /// Routes of the methods the contract knows whose service has backends, by path
        /// (service-addressed methods are routed by their request instead).
        var routes: [String: Route] = [:]
    }

    /// The methods the contract knows, by path.
    private let methods: [String: Method]
    private let routing: Mutex<Routing>
    private let virtualNodes: Int
    private let makeClient: @Sendable (Topology.Instance) -> RPCClient
    let configuration: Configuration
    private let logger: Logger
    /// Mints the tokens of forwarded calls and of the gateway's own; nil when the suite runs
    /// without credential checks.
    let minter: TokenMinter?

    /// Opens (lazily) one client per instance of `topology`; `minter` signs what they send.
    public init(
        topology: Topology, configuration: Configuration = Configuration(), logger: Logger,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, minter: TokenMinter? = nil
    ) {
        self.minter = minter
        var clientConfiguration = RPCClient.Configuration()
        clientConfiguration.credentials = minter
        clientConfiguration.connectTimeout = configuration.connectTimeout
        clientConfiguration.connectionsPerAddress = configuration.connectionsPerBackend
        clientConfiguration.keepaliveInterval = .seconds(10)
        clientConfiguration.tls = configuration.tls
        makeClient = { [clientConfiguration] instance in
            RPCClient(host: instance.host, port: instance.port, configuration: clientConfiguration, group: group, logger: logger)
        }
        var methods: [String: Method] = [:]
        for schema in MethodCatalog.methods.values {
            methods[schema.path] = Method(
                service: schema.serviceName, name: String(schema.path.drop { $0 != "/" }.dropFirst()),
                input: schema.inputDescriptor, userKeyed: schema.isUserKeyed, streaming: schema.serverStreaming)
        }
        self.methods = methods
        self.routing = Mutex(Routing())
        self.virtualNodes = topology.virtualNodes
        self.configuration = configuration
        self.logger = logger
        _ = reconcile(ShardDirectory(topology: topology))
    }

    /// Backend services by full name, as they are now.
    var services: [String: ServiceBackends] { routing.withLock { $0.services } }

    /// Full names of the services calls are forwarded to now, sorted.
    public var routedServices: [String] { services.keys.sorted() }

    /// Routes by `directory` from now on: rings whose instances changed are rebuilt (the
    /// instances that stay keep their connections), and every instance moves to its address
    /// (a shard to its new leader). Calls waiting for a shard's leader go on at once.
    public func follow(_ directory: ShardDirectory) async {
        let (clients, backends) = reconcile(directory)
        for client in clients { await client.close() }
        for backend in backends { await backend.close() }
    }

    /// Applies `directory`; returns the clients and the instances (left off their rings) to close.
    private func reconcile(_ directory: ShardDirectory) -> (clients: [RPCClient], backends: [Backend]) {
        let current = services
        var next = current
        var expired: [RPCClient] = []
        var dropped: [Backend] = []
        for ring in directory.rings.values {
            let existing = current[ring.service]
            var service = existing
            if existing?.planner.instanceIDs != ring.instanceIDs || existing?.idempotentMethods != ring.idempotentMethods
                || existing?.planner.userFailover != ring.userFailover || existing?.ringVersion != ring.ringVersion
                || existing?.planner.points != ring.points
            {
                let backends = ring.instanceIDs.map { id in
                    existing?.backend(id: id) ?? Backend(service: ring.service, id: id, instance: nil, makeClient: makeClient)
                }
                let rebuilt = ServiceBackends(
                    name: ring.service, idempotentMethods: ring.idempotentMethods,
                    planner: RoutePlanner(
                        instanceIDs: ring.instanceIDs, userFailover: ring.userFailover, virtualNodes: virtualNodes, points: ring.points),
                    backends: backends, ringVersion: ring.ringVersion)
                dropped += (existing?.backends ?? []).filter { rebuilt.backend(id: $0.id) == nil }
                next[ring.service] = rebuilt
                service = rebuilt
            }
            for backend in service?.backends ?? [] {
                expired += backend.follow(
                    ring.addresses[backend.id], epoch: ring.epochs[backend.id],
                    followsLeader: ring.followed.contains(backend.id))
            }
        }
        var routes: [String: Route] = [:]
        for (path, method) in methods where !ServiceAddressedCalls.isAddressed(path) {
            guard let backends = next[method.service] else { continue }
            routes[path] = Route(
                backends: backends, input: method.input, userKeyed: method.userKeyed, streaming: method.streaming,
                idempotent: backends.idempotentMethods.contains(method.name))
        }
        routing.withLock { $0 = Routing(services: next, routes: routes) }
        return (expired, dropped)
    }

    /// Closes every backend connection.
    public func close() async {
        for service in services.values {
            for backend in service.backends { await backend.close() }
        }
    }

    // MARK: Routing

    /// The route of `path`: a method the contract knows, or any other method of a service in
    /// the topology (then unary, not user-keyed, not idempotent). A service-addressed call
    /// (``ServiceAddressedCalls``) goes to the service its request names.
    func route(_ path: String, request: ByteBuffer) throws(RPCError) -> Route {
        let routing = routing.withLock { $0 }
        // The routes hold no service-addressed method, so the common case costs one lookup.
        if let route = routing.routes[path] { return route }
        if ServiceAddressedCalls.isAddressed(path) { return try addressedRoute(path, request: request, routing: routing) }
        let service = String(path.prefix { $0 != "/" })
        guard let backends = routing.services[service], path.count > service.count + 1 else {
            throw RPCError(
                .unimplemented,
                "unknown method \(FieldFormat.quoted(path)): no backend in the gateway's topology serves \(FieldFormat.shortened(service))")
        }
        return Route(backends: backends, input: nil, userKeyed: false, streaming: false, idempotent: false)
    }

    /// The route of a service-addressed call: the backends of the service its field 1 names.
    private func addressedRoute(_ path: String, request: ByteBuffer, routing: Routing) throws(RPCError) -> Route {
        guard let schema = MethodCatalog.method(path), let input = schema.inputDescriptor else {
            throw RPCError(.unimplemented, "unknown method \(FieldFormat.quoted(path))")
        }
        guard let name = request.withUnsafeReadableBytes({ input.readStringField(1, from: $0) }) else {
            throw RPCError(.invalidArgument, "malformed request: \(request.readableBytes) bytes do not decode as \(input.fullName)")
        }
        guard let target = ServiceAddressedCalls.target(named: name, for: path) else {
            throw RPCError.invalidArgument(field: "service", ServiceAddressedCalls.refusal(name, for: path))
        }
        guard let backends = routing.services[target] else {
            throw RPCError(.unimplemented, "no backend in the gateway's topology serves \(target)")
        }
        return Route(
            backends: backends, input: input, userKeyed: false, streaming: schema.serverStreaming,
            idempotent: ScatterRule.rule(for: path) == .anyShard)
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
    ///
    /// A unary call to one instance whose connection is up starts from the calling thread
    /// (``startUnary(_:path:request:options:deadline:responder:)``) and is answered from the
    /// backend connection's callback; anything else (streams, calls sent to several shards, no
    /// connection up yet, a first attempt that failed in a way that may be retried) goes on in
    /// a task.
    public func forward(path: String, request: ByteBuffer, context: ServerContext, responder: ServerResponder) {
        let route: Route
        do {
            route = try self.route(path, request: request)
        } catch {
            return responder.finish(error)
        }
        let deadline = context.timeRemaining.map { ContinuousClock.now + $0 }
        var options = self.options(from: context)
        options.authorization = self.authorization(for: context.caller)
        if let version = route.backends.ringVersionText { options.metadata[Self.ringVersionKey] = version }
        if !route.streaming, !isScattered(route, path: path) {
            return startUnary(
                route, path: path, request: request, options: options,
                deadline: deadline ?? ContinuousClock.now + configuration.defaultTimeout, responder: responder)
        }
        let task = Task {
            do {
                if route.streaming {
                    try self.refuseOneShardStream(route, path: path)
                    let user = try self.userID(route, request: request)
                    try await self.stream(
                        route, path: path, user: user, request: request, options: options,
                        deadline: deadline, responder: responder)
                } else {
                    let answer = try await self.answer(
                        route, path: path, request: request, options: options,
                        deadline: deadline ?? ContinuousClock.now + self.configuration.defaultTimeout)
                    responder.succeed(encoded: answer)
                }
            } catch {
                responder.finish(error)
            }
        }
        responder.onCancel { task.cancel() }
    }

    /// Forwards a unary call to one instance: the first attempt starts here, without a task,
    /// when the first candidate's connection is up, and its answer goes to `responder` from the
    /// connection's callback. The call goes on in a task (``unary(_:path:candidates:request:options:deadline:after:)``,
    /// with the same attempts, retry policy and leader waits) when no connection is up, or when
    /// the first attempt failed and ``RetryPolicy`` allows another.
    func startUnary(
        _ route: Route, path: String, request: ByteBuffer, options: CallOptions, deadline: ContinuousClock.Instant,
        responder: ServerResponder
    ) {
        let candidates: [Backend]
        let user: String?
        do {
            user = try userID(route, request: request)
            candidates = route.backends.candidates(userID: user)
        } catch {
            return responder.finish(error)
        }
        let call = ForwardedCall()
        responder.onCancel { call.cancel() }
        /// The rest of the call in a task, after `failure` (the first attempt's) if any.
        @Sendable func goOn(after failure: FirstFailure?) {
            call.goOn(
                Task {
                    do {
                        let answer = try await self.unary(
                            route, path: path, candidates: candidates, request: request, options: options,
                            deadline: deadline, after: failure, rerouting: self.rerouter(path: path, route: route, user: user))
                        responder.succeed(encoded: answer)
                    } catch {
                        responder.finish(error)
                    }
                })
        }
        let now = ContinuousClock.now
        guard let backend = candidates.first, let endpoint = backend.endpoint, deadline > now else { return goOn(after: nil) }
        var attemptOptions = options
        attemptOptions.timeout = deadline - now
        let idempotent = route.idempotent
        let started = endpoint.client.startUnaryRaw(path: path, request: request, options: attemptOptions) { result in
            switch result {
            case .success(let answer):
                backend.recordCall(code: .ok, millis: Self.millis(since: now))
                responder.succeed(encoded: answer)
            case .failure(let error as RPCError):
                backend.recordCall(code: error.code, millis: Self.millis(since: now), error: error.message)
                if RetryPolicy.mayRetry(after: error, idempotencyKey: options.idempotencyKey, methodIsIdempotent: idempotent),
                    !call.isCancelled
                {
                    goOn(after: FirstFailure(error: error, backend: backend, endpoint: endpoint))
                } else {
                    responder.finish(error)
                }
            case .failure(let error):
                responder.finish(error)
            }
        }
        guard let started else { return goOn(after: nil) }
        call.attempt(started)
    }

    /// The failed first attempt of a call started by ``startUnary(_:path:request:options:deadline:responder:)``.
    struct FirstFailure: Sendable {
        let error: RPCError
        let backend: Backend
        let endpoint: Backend.Endpoint
    }

    /// Whether a unary call of `path` on `route` goes to several shards (``answer(_:path:request:options:deadline:)``).
    func isScattered(_ route: Route, path: String) -> Bool {
        guard route.backends.backends.count > 1, let rule = ScatterRule.rule(for: path) else { return false }
        return !route.userKeyed || rule == .rank
    }

    /// The call metadata key that carries the version of the ring a call was routed by.
    static let ringVersionKey = "ring-version"

    /// The options of a forwarded call: the caller's trace id (one is made up when the caller
    /// sent none), idempotency key and metadata, but never its credential.
    func options(from header: Retain_V1_CallHeader) -> CallOptions {
        CallOptions(
            traceID: header.traceId.isEmpty ? TraceIDs.next() : header.traceId,
            idempotencyKey: header.idempotencyKey, metadata: header.metadata)
    }

    /// The options of a call forwarded for `context`, as ``options(from:)`` makes them (without
    /// decoding a header that carries none of what passes on).
    func options(from context: ServerContext) -> CallOptions {
        let (traceID, idempotencyKey, metadata) = context.passedOn
        return CallOptions(
            traceID: traceID.isEmpty ? TraceIDs.next() : traceID, idempotencyKey: idempotencyKey, metadata: metadata)
    }

    /// The credential of a call forwarded for `caller`: a token for it with its scopes, or ""
    /// when the gateway checks no credentials.
    func authorization(for caller: Caller?) -> String {
        guard let minter, let caller else { return "" }
        return minter.authorization(subject: caller.id, scopes: caller.scopes)
    }

    /// A unary call with its encoded request, answered with the encoded answer, tried again on
    /// the planner's next candidate where the retry policy allows, until `deadline`. A call
    /// refused by a shard's replica (or that found its leader gone) waits for the next leader.
    func unary(
        _ route: Route, path: String, user: String?, request: ByteBuffer, options: CallOptions,
        deadline: ContinuousClock.Instant
    ) async throws -> ByteBuffer {
        try await unary(
            route, path: path, candidates: route.backends.candidates(userID: user), request: request,
            options: options, deadline: deadline, rerouting: rerouter(path: path, route: route, user: user))
    }

    /// How a user-keyed call finds its user's shard again after one refused it as moved (a
    /// reshard): by the ring the gateway follows now, with that ring's version; nil for a call
    /// not about one user (it has nowhere else to go).
    func rerouter(path: String, route: Route, user: String?) -> Attempts.Rerouting? {
        guard route.userKeyed, let user else { return nil }
        return { [self] in
            guard let current = self.routing.withLock({ $0.routes[path] }) else { return nil }
            return (current.backends.candidates(userID: user), current.backends.ringVersionText)
        }
    }

    /// A unary call as above, to `candidates` (one shard, for a call the gateway sends to every
    /// shard); with `failure`, it goes on after that failed first attempt.
    ///
    /// A first attempt refused by its connection as not processed (GOAWAY, closed; not a
    /// replica's refusal, not a shard's refusal of a moved user) is not counted: the next
    /// attempt goes to the same instance, as the client sends such a call again on a fresh
    /// connection. With `rerouting` (a call about one user), a refusal as moved waits for the
    /// gateway's next ring (within the leader wait) and goes on by it.
    func unary(
        _ route: Route, path: String, candidates: [Backend], request: ByteBuffer, options: CallOptions,
        deadline: ContinuousClock.Instant, after failure: FirstFailure? = nil, rerouting: Attempts.Rerouting? = nil
    ) async throws -> ByteBuffer {
        var attempts = Attempts(candidates: candidates, policy: configuration.retry, deadline: deadline)
        attempts.rerouting = rerouting
        if let failure,
            failure.error.details["not_processed"] != "true" || failure.error.details["not_leader"] == "true"
                || failure.error.details["moved"] == "true"
        {
            try await attempts.failed(
                failure.error, backend: failure.backend, endpoint: failure.endpoint, options: options,
                idempotent: route.idempotent)
            logger.debug(
                "retrying call",
                metadata: [
                    "method": "\(path)", "instance": "\(failure.backend.id)", "error": "\(failure.error)",
                    "attempt": "\(attempts.count)",
                ])
        }
        while true {
            let (backend, endpoint, attemptOptions) = try await attempts.next(options)
            let started = ContinuousClock.now
            do {
                let answer = try await endpoint.client.unaryRaw(path: path, request: request, options: attemptOptions)
                backend.recordCall(code: .ok, millis: Self.millis(since: started))
                return answer
            } catch let error as RPCError {
                backend.recordCall(code: error.code, millis: Self.millis(since: started), error: error.message)
                try await attempts.failed(error, backend: backend, endpoint: endpoint, options: options, idempotent: route.idempotent)
                logger.debug(
                    "retrying call",
                    metadata: [
                        "method": "\(path)", "instance": "\(backend.id)", "error": "\(error)", "attempt": "\(attempts.count)",
                    ])
            }
        }
    }

    /// A server-streaming call: answers pass through as they come. It is tried again only while
    /// no answer has been passed on yet.
    func stream(
        _ route: Route, path: String, user: String?, request: ByteBuffer, options: CallOptions,
        deadline: ContinuousClock.Instant?, responder: ServerResponder
    ) async throws {
        var attempts = Attempts(route: route, user: user, policy: configuration.retry, deadline: deadline)
        attempts.rerouting = rerouter(path: path, route: route, user: user)
        while true {
            let (backend, endpoint, attemptOptions) = try await attempts.next(options)
            let started = ContinuousClock.now
            var forwarded = false
            do {
                for try await message in endpoint.client.serverStreamingRaw(path: path, request: request, options: attemptOptions) {
                    forwarded = true
                    responder.send(encoded: message)
                }
                backend.recordCall(code: .ok, millis: Self.millis(since: started))
                responder.finish(nil)
                return
            } catch let error as RPCError {
                backend.recordCall(code: error.code, millis: Self.millis(since: started), error: error.message)
                guard !forwarded else { throw error }
                try await attempts.failed(error, backend: backend, endpoint: endpoint, options: options, idempotent: route.idempotent)
            }
        }
    }

    /// The attempts of one call: which instance each goes to, the pauses between them, and the
    /// waits for a shard's next leader.
    struct Attempts {
        /// Where a call about one user goes now (the candidates and the version of the ring
        /// that gives them), nil when the gateway no longer routes its method.
        typealias Rerouting = @Sendable () -> (candidates: [Backend], ringVersion: String?)?

        /// The instances tried in turn.
        private(set) var candidates: [Backend]
        /// Set for a call about one user: after an instance refused it as moved (its user left
        /// for another shard), the next attempt goes where the gateway's ring says now, never
        /// again by the ring the call started with (which could reach a shard the user has
        /// since come back to, by an order of calls the reshard does not expect).
        var rerouting: Rerouting?
        /// The ring version attempts carry after a re-route (nil: the call's own).
        private var ringVersion: String?
        /// Whether the last attempt was refused as moved.
        private var refusedAsMoved = false
        let policy: RetryPolicy
        let deadline: ContinuousClock.Instant?
        /// Until when the call may wait for shards' leaders (the policy's leader wait, within
        /// the deadline).
        let leaderDeadline: ContinuousClock.Instant
        /// Attempts that counted (waits for a new leader do not).
        private(set) var count = 0
        /// Whether the next attempt follows a wait for a new leader (no backoff then).
        private var moved = false

        init(route: Route, user: String?, policy: RetryPolicy, deadline: ContinuousClock.Instant?) {
            self.init(candidates: route.backends.candidates(userID: user), policy: policy, deadline: deadline)
        }

        init(candidates: [Backend], policy: RetryPolicy, deadline: ContinuousClock.Instant?) {
            self.candidates = candidates
            self.policy = policy
            self.deadline = deadline
            let leaderDeadline = ContinuousClock.now + policy.leaderWait
            self.leaderDeadline = deadline.map { min($0, leaderDeadline) } ?? leaderDeadline
        }

        /// The instance, its endpoint and the options of the next attempt, after the pause it
        /// needs; waits for a shard's leader when the instance has none. Throws when the
        /// deadline is spent or no leader comes in time.
        mutating func next(_ options: CallOptions) async throws -> (Backend, Backend.Endpoint, CallOptions) {
            guard !candidates.isEmpty else {
                throw RPCError(.unavailable, "no instance of the service in the gateway's routing", details: ["not_processed": "true"])
            }
            var backend = candidates[count % candidates.count]
            if count >= candidates.count, !moved {
                let backoff = policy.backoff * (1 << min(count - candidates.count, 6))
                let wakeUp = deadline.map { min(ContinuousClock.now + backoff, $0) } ?? ContinuousClock.now + backoff
                try await Task.sleep(until: wakeUp, clock: .continuous)
            }
            moved = false
            if refusedAsMoved, let rerouting, let next = rerouting(), let first = next.candidates.first {
                refusedAsMoved = false
                candidates = next.candidates
                ringVersion = next.ringVersion
                backend = first
            }
            var endpoint = backend.endpoint
            if endpoint == nil, backend.followsLeader {
                _ = await backend.waitForMove(from: backend.generation, until: leaderDeadline)
                endpoint = backend.endpoint
            }
            guard let endpoint else {
                throw RPCError(
                    .unavailable, "\(backend.service) instance \(FieldFormat.quoted(backend.id)) has no leader",
                    details: ["not_processed": "true"])
            }
            var attemptOptions = options
            if let ringVersion { attemptOptions.metadata[Forwarder.ringVersionKey] = ringVersion }
            if let deadline {
                let remaining = deadline - ContinuousClock.now
                guard remaining > .zero else { throw RPCError(.deadlineExceeded, "deadline exceeded") }
                attemptOptions.timeout = remaining
            }
            return (backend, endpoint, attemptOptions)
        }

        /// Decides after a failed attempt: returns to try again, or throws `error` back to the
        /// caller. A shard's instance that refused the call as a replica (or could not be
        /// reached) is tried again once the watch names its next leader, within the leader wait;
        /// other failures count against the policy's attempts.
        mutating func failed(
            _ error: RPCError, backend: Backend, endpoint: Backend.Endpoint, options: CallOptions,
            idempotent: Bool
        ) async throws {
            let movedAway = error.details["moved"] == "true"
            refusedAsMoved = movedAway
            if error.details["not_processed"] == "true", error.code == .unavailable, !movedAway {
                backend.markUnreachable(error, generation: endpoint.generation)
            }
            guard !Task.isCancelled,
                RetryPolicy.mayRetry(after: error, idempotencyKey: options.idempotencyKey, methodIsIdempotent: idempotent)
            else {
                throw error
            }
            if movedAway, let rerouting,
                await Forwarder.waitForRing(
                    rerouting, after: ringVersion ?? options.metadata[Forwarder.ringVersionKey], until: leaderDeadline)
            {
                // The gateway follows a newer ring now: the next attempt goes by it, at once.
                moved = true
                return
            }
            if backend.followsLeader, !movedAway, RetryPolicy.awaitsNewLeader(after: error),
                await backend.waitForMove(from: endpoint.generation, until: leaderDeadline)
            {
                moved = true
                return
            }
            count += 1
            guard count < policy.maximumAttempts else { throw error }
        }
    }

    /// Waits (checking every 10 ms) until the gateway routes by a ring other than `version`,
    /// or `deadline`; returns whether it does. A moved user's calls wait here while a reshard
    /// copies it, as calls wait for a shard's next leader.
    static func waitForRing(
        _ rerouting: Attempts.Rerouting, after version: String?, until deadline: ContinuousClock.Instant
    ) async -> Bool {
        while true {
            if let next = rerouting(), next.ringVersion != version { return true }
            guard ContinuousClock.now < deadline, (try? await Task.sleep(for: .milliseconds(10))) != nil else { return false }
        }
    }

    private static func millis(since start: ContinuousClock.Instant) -> Double {
        (ContinuousClock.now - start) / .milliseconds(1)
    }
}
