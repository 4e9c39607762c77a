import GatewayCore
import Metrics
import NIOCore
import RetainClock
import RetainProto
import RetainRPC
import RetainWire
import Synchronization

/// One backend instance as the gateway sees it: where it is reached now and its client, its
/// health and its traffic.
///
/// An instance of a replicated shard moves: its address is its shard's leader's, and
/// ``follow(_:followsLeader:)`` points it at the next leader with a new client (the old one is
/// closed after a grace period, so calls in flight on it end on their own). Each move advances
/// the ``Endpoint/generation``, which a call refused by a replica waits for.
final class Backend: Sendable {
    /// Where the instance is reached now.
    struct Endpoint: Sendable {
        /// Its address (id, host and port).
        let instance: Topology.Instance
        /// Calls to it; one multiplexed connection (or more, by configuration).
        let client: RPCClient
        /// The epoch of the shard's leader it is, for a shard's instance.
        let epoch: Int64?
        /// Advances with every move (a new leader, even at the same address, or its loss).
        let generation: UInt64
    }

    /// What the health checker and the calls learned about the instance.
    private struct State {
        var endpoint: Endpoint?
        var generation: UInt64 = 0
        var followsLeader = false
        /// Clients of earlier addresses, closed once their grace period is over.
        var retired: [(client: RPCClient, since: ContinuousClock.Instant)] = []
        var status: Retain_V1_ServingStatus = .unknown
        var lastCheckMs: Int64 = 0
        var statusSinceMs: Int64
        var consecutiveFailures: UInt32 = 0
        var calls: UInt64 = 0
        var errors: UInt64 = 0
        var lastError = ""
        var latency = LatencyWindow()
    }

    /// How long a replaced client stays open for the calls in flight on it.
    static let retiredGrace: Duration = .seconds(10)

    /// The service it serves, e.g. `retain.v1.Profile`.
    let service: String
    /// The instance's stable id (the ring's; a shard's name).
    let id: String
    private let makeClient: @Sendable (Topology.Instance) -> RPCClient
    private let state: Mutex<State>
    private let inRotationGauge: Gauge
    private let callCounters: Mutex<[UInt32: Counter]> = Mutex([:])

    /// A backend with id `id`, reached at `instance` (nil: nowhere yet); `makeClient` opens
    /// (lazily) the client of an address.
    init(
        service: String, id: String, instance: Topology.Instance?, followsLeader: Bool = false,
        makeClient: @escaping @Sendable (Topology.Instance) -> RPCClient
    ) {
        self.service = service
        self.id = id
        self.makeClient = makeClient
        var initial = State(statusSinceMs: ServiceClock.system.now())
        initial.followsLeader = followsLeader
        if let instance { initial.endpoint = Endpoint(instance: instance, client: makeClient(instance), epoch: nil, generation: 0) }
        self.state = Mutex(initial)
        self.inRotationGauge = Gauge(label: "gateway_backend_in_rotation", dimensions: [("service", service), ("instance", id)])
        inRotationGauge.record(instance == nil ? 0 : 1)
    }

    /// Where the instance is reached now; nil while its shard has no leader.
    var endpoint: Endpoint? { state.withLock { $0.endpoint } }

    /// The current generation (see ``Endpoint/generation``).
    var generation: UInt64 { state.withLock { $0.generation } }

    /// Whether etcd names the address (a shard's leader), so a refusal waits for the next one.
    var followsLeader: Bool { state.withLock { $0.followsLeader } }

    /// Points the instance at `instance` (nil: nowhere, the shard has no leader), the leader of
    /// `epoch` for a shard's. A new leader puts the instance back in rotation until a check
    /// says otherwise; a new address gets a new client. Returns the clients whose grace period
    /// is over, for the caller to close.
    func follow(_ instance: Topology.Instance?, epoch: Int64?, followsLeader: Bool) -> [RPCClient] {
        let now = ContinuousClock.now
        let (expired, inRotation): ([RPCClient], Bool?) = state.withLock { state in
            state.followsLeader = followsLeader
            var inRotation: Bool?
            if state.endpoint?.instance != instance || state.endpoint?.epoch != epoch {
                let old = state.endpoint
                var client: RPCClient?
                if let old, old.instance == instance { client = old.client } else if let old { state.retired.append((old.client, now)) }
                state.generation &+= 1
                state.endpoint = instance.map {
                    Endpoint(instance: $0, client: client ?? makeClient($0), epoch: epoch, generation: state.generation)
                }
                state.status = .unknown
                state.statusSinceMs = ServiceClock.system.now()
                state.consecutiveFailures = 0
                inRotation = instance != nil
            }
            let expired = state.retired.filter { now - $0.since >= Self.retiredGrace }.map(\.client)
            state.retired.removeAll { now - $0.since >= Self.retiredGrace }
            return (expired, inRotation)
        }
        if let inRotation { inRotationGauge.record(inRotation ? 1 : 0) }
        return expired
    }

    /// Waits until the instance moves past `generation` (a new leader, or its loss), until
    /// `deadline`; returns whether it moved. Checks every 10 ms: a move is rare and the watch
    /// that makes it takes longer than that.
    func waitForMove(from generation: UInt64, until deadline: ContinuousClock.Instant) async -> Bool {
        while self.generation == generation {
            guard ContinuousClock.now < deadline, !Task.isCancelled else { return false }
            try? await Task.sleep(until: min(ContinuousClock.now + .milliseconds(10), deadline), clock: .continuous)
        }
        return true
    }

    /// Closes the current client and the retired ones.
    func close() async {
        let clients = state.withLock { state in
            let clients = state.retired.map(\.client) + (state.endpoint.map { [$0.client] } ?? [])
            state.retired = []
            return clients
        }
        for client in clients { await client.close() }
    }

    /// Whether calls go to it: while it has an address, until a check says otherwise (UNKNOWN
    /// counts as in rotation, so the first second after start or a move does not refuse every
    /// call), and while it says SERVING.
    var inRotation: Bool {
        state.withLock { $0.endpoint != nil && ($0.status == .serving || $0.status == .unknown) }
    }

    /// Records a health check's result of the endpoint of `generation`; a result about an
    /// address the instance has left is dropped.
    func recordCheck(_ status: Retain_V1_ServingStatus, error: String = "", generation: UInt64) {
        let now = ServiceClock.system.now()
        let inRotation: Bool? = state.withLock { state in
            guard state.generation == generation else { return nil }
            if state.status != status {
                state.status = status
                state.statusSinceMs = now
            }
            state.lastCheckMs = now
            if status == .serving {
                state.consecutiveFailures = 0
            } else {
                state.consecutiveFailures += 1
                if !error.isEmpty { state.lastError = error }
            }
            return status == .serving
        }
        if let inRotation { inRotationGauge.record(inRotation ? 1 : 0) }
    }

    /// Takes the instance out of rotation at once after a call could not reach it; the next
    /// successful check (or a move) puts it back.
    func markUnreachable(_ error: RPCError, generation: UInt64) {
        let now = ServiceClock.system.now()
        let changed = state.withLock { state in
            guard state.generation == generation else { return false }
            if state.status != .notServing {
                state.status = .notServing
                state.statusSinceMs = now
            }
            state.lastError = error.message
            return true
        }
        if changed { inRotationGauge.record(0) }
    }

    /// Records one forwarded call.
    func recordCall(code: RPCStatusCode, millis: Double, error: String = "") {
        let now = Clock.nowNanos()
        state.withLock { state in
            state.calls += 1
            if code != .ok {
                state.errors += 1
                if !error.isEmpty { state.lastError = error }
            }
            state.latency.record(millis: millis, nowNanos: now)
        }
        let counter = callCounters.withLock { counters in
            if let existing = counters[code.rawValue] { return existing }
            let created = Counter(
                label: "gateway_backend_calls_total",
                dimensions: [("service", service), ("instance", id), ("code", code.name)])
            counters[code.rawValue] = created
            return created
        }
        counter.increment()
    }

    /// The instance as ListBackends and LocateUser report it.
    var info: Retain_V1_BackendInfo {
        let now = Clock.nowNanos()
        return state.withLock { state in
            Retain_V1_BackendInfo(
                service: service, instanceId: id, address: state.endpoint?.instance.address ?? "",
                status: state.endpoint == nil ? .notServing : state.status,
                lastCheckMs: state.lastCheckMs, statusSinceMs: state.statusSinceMs,
                consecutiveFailures: state.consecutiveFailures,
                inRotation: state.endpoint != nil && (state.status == .serving || state.status == .unknown),
                calls: state.calls, errors: state.errors,
                latencyP50Ms: state.latency.quantile(0.5, nowNanos: now),
                latencyP99Ms: state.latency.quantile(0.99, nowNanos: now), lastError: state.lastError)
        }
    }
}

/// The monotonic clock the gateway measures latencies with (wall time comes from
/// ``ServiceClock``).
enum Clock {
    /// Monotonic nanoseconds.
    static func nowNanos() -> UInt64 {
        NIODeadline.now().uptimeNanoseconds
    }
}
