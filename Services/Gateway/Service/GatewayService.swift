public import GatewayCore
import NIOCore
public import RetainClock
import RetainProto
public import RetainRPC
#if canImport(Glibc)
import Glibc
import RetainWire
public import RetainFlowRules
#endif

/// The Gateway's RPC adapter: its own methods (the flows, ListBackends, LocateUser) and a
/// fallback that forwards every other `retain.v1.<Service>/<Method>` to a backend.
public struct GatewayService: Sendable {
    /// How the gateway behaves.
    public struct Configuration: Sendable {
        /// The rewards the flows pay when ``flowRules`` is nil (and the configuration file's,
        /// which ``flowRules`` falls back to).
        public var flows: FlowConfiguration = .standard
        /// Where the flows read the rewards in force: the Ledger's "flows" rule set; nil pays by
        /// ``flows`` alone.
        public var flowRules: FlowRulesSource?
        /// Deadline of a flow whose caller set none. Default 30 s.
        public var flowTimeout: Duration = .seconds(30)
        /// Where "now" comes from (tests may fix it).
        public var clock: ServiceClock = .system

        public init() {}
    }

    let forwarder: Forwarder
    let configuration: Configuration

    public init(forwarder: Forwarder, configuration: Configuration = Configuration()) {
        self.forwarder = forwarder
        self.configuration = configuration
    }

    /// The router to serve.
    public var router: RPCRouter {
        var router = RPCRouter()
        let forwarder = forwarder
        router.fallback { path, request, context, responder in
            forwarder.forward(path: path, request: request, context: context, responder: responder)
        }
        // Reflection lists every method of the services the gateway routes (and of the
        // service-addressed ones, routed by their `service` field), so generic clients
        // (`retain list/describe/call`) work through it.
        let routed = Set(forwarder.services.keys).union(ServiceAddressedCalls.services)
        router.advertise(
            MethodCatalog.methods.values.filter { routed.contains($0.serviceName) }
                .sorted { $0.path < $1.path }.map { AnyRPCMethod($0) })
        router.unary(Retain_V1_Gateway.listBackends) { request, _ in
            try self.listBackends(request)
        }
        router.unary(Retain_V1_Gateway.locateUser) { request, _ in
            try self.locateUser(request)
        }
        router.unaryAsync(Retain_V1_Gateway.onboard) { request, context in
            try await FlowError.mapped {
                try await OnboardFlow(backend: self.backend(for: context), configuration: await self.flows())
                    .run(request, now: self.configuration.clock.now())
            }
        }
        router.unaryAsync(Retain_V1_Gateway.trackAction) { request, context in
            try await FlowError.mapped {
                try await TrackActionFlow(backend: self.backend(for: context), configuration: await self.flows())
                    .run(request, now: self.configuration.clock.now())
            }
        }
        router.unaryAsync(Retain_V1_Gateway.checkInFlow) { request, context in
            try await FlowError.mapped {
                try await CheckInFlow(backend: self.backend(for: context), configuration: await self.flows())
                    .run(request, now: self.configuration.clock.now())
            }
        }
        router.unaryAsync(Retain_V1_Gateway.resolveFeedbackFlow) { request, context in
            try await FlowError.mapped {
                try await ResolveFeedbackFlow(backend: self.backend(for: context), configuration: await self.flows())
                    .run(request, now: self.configuration.clock.now())
            }
        }
        router.unaryAsync(Retain_V1_Gateway.submitFeedbackFlow) { request, context in
            try await FlowError.mapped { try await SubmitFeedbackFlow(backend: self.backend(for: context)).run(request) }
        }
        router.unaryAsync(Retain_V1_Gateway.getUserReport) { request, context in
            try await FlowError.mapped {
                try await UserReportFlow(backend: self.backend(for: context)).run(request, now: self.configuration.clock.now())
            }
        }
        router.unaryAsync(Retain_V1_Gateway.countSavedSegment) { request, context in
            try await SavedSegmentError.mapped {
                try await SavedSegmentEvaluation(source: self.segmentSource(for: context))
                    .count(request.name, asOf: request.asOfMs, now: self.configuration.clock.now())
            }
        }
        router.unaryAsync(Retain_V1_Gateway.listSavedSegmentMembers) { request, context in
            try await SavedSegmentError.mapped {
                try await SavedSegmentEvaluation(source: self.segmentSource(for: context))
                    .members(
                        request.name, asOf: request.asOfMs, pageToken: request.page?.pageToken ?? "",
                        pageSize: request.page?.pageSize ?? 0, now: self.configuration.clock.now())
            }
        }
        return router
    }

    /// The rewards a flow call pays by: the version in force of the ledger's rule set.
    private func flows() async -> FlowConfiguration {
        await configuration.flowRules?.current() ?? configuration.flows
    }

    /// The services as one saved-segment call sees them: its deadline (or the flows' default)
    /// and trace.
    private func segmentSource(for context: ServerContext) -> SavedSegmentBackend {
        var options = forwarder.options(from: context.header)
        options.idempotencyKey = ""
        return SavedSegmentBackend(
            forwarder: forwarder, deadline: ContinuousClock.now + (context.timeRemaining ?? configuration.flowTimeout),
            options: options)
    }

    /// The backends as one flow call sees them: its deadline (or the default) and trace; the
    /// steps carry the gateway's own token.
    private func backend(for context: ServerContext) -> GatewayFlowBackend {
        let header = context.header
        var options = forwarder.options(from: header)
        options.idempotencyKey = ""
        return GatewayFlowBackend(
            forwarder: forwarder,
            deadline: ContinuousClock.now + (context.timeRemaining ?? configuration.flowTimeout),
            options: options)
    }

    /// ListBackends: every instance (or one service's), sorted by service then instance id.
    func listBackends(_ request: Retain_V1_ListBackendsRequest) throws -> Retain_V1_ListBackendsResponse {
        var services = Array(forwarder.services.values)
        if !request.service.isEmpty {
            let name = Self.fullName(request.service)
            services = services.filter { $0.name == name }
        }
        let backends = services.flatMap { $0.backends.map(\.info) }
            .sorted { ($0.service, $0.instanceId) < ($1.service, $1.instanceId) }
        return Retain_V1_ListBackendsResponse(backends: backends)
    }

    /// LocateUser: the instance that owns a user, and where the user would go next.
    func locateUser(_ request: Retain_V1_LocateUserRequest) throws -> Retain_V1_LocateUserResponse {
        try FlowError.mapped { try FlowValidation.entityID(request.userId, field: "user_id") }
        guard !request.service.isEmpty else { throw RPCError.invalidArgument(field: "service", "is required") }
        guard request.service.utf8.count <= 128 else { throw RPCError.invalidArgument(field: "service", "is longer than 128 bytes") }
        let name = Self.fullName(request.service)
        guard let service = forwarder.services[name] else {
            throw RPCError.notFound("service in the gateway's topology", name)
        }
        guard let placement = service.planner.placement(of: request.userId) else {
            throw RPCError(.internal, "service \(name) has no instance")
        }
        return Retain_V1_LocateUserResponse(
            owner: service.backends[placement.owner].info,
            fallbacks: placement.fallbacks.map { service.backends[$0].info })
    }

    /// `Profile` -> `retain.v1.Profile`; full names stay.
    static func fullName(_ service: String) -> String {
        service.contains(".") ? service : "retain.v1.\(service)"
    }
}
