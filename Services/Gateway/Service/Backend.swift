import GatewayCore
import Metrics
import NIOCore
import RetainClock
import RetainProto
import RetainRPC
import Synchronization

/// One backend instance as the gateway sees it: its client, its health and its traffic.
final class Backend: Sendable {
    /// What the health checker and the calls learned about the instance.
    private struct State {
        var status: Retain_V1_ServingStatus = .unknown
        var lastCheckMs: Int64 = 0
        var statusSinceMs: Int64
        var consecutiveFailures: UInt32 = 0
        var calls: UInt64 = 0
        var errors: UInt64 = 0
        var lastError = ""
        var latency = LatencyWindow()
    }

    /// The service it serves, e.g. `retain.v1.Profile`.
    let service: String
    /// The instance from the topology.
    let instance: Topology.Instance
    /// Calls to it; one multiplexed connection (or more, by configuration).
    let client: RPCClient
    private let state: Mutex<State>
    private let inRotationGauge: Gauge
    private let callCounters: Mutex<[UInt32: Counter]> = Mutex([:])

    init(service: String, instance: Topology.Instance, client: RPCClient) {
        self.service = service
        self.instance = instance
        self.client = client
        self.state = Mutex(State(statusSinceMs: ServiceClock.system.now()))
        self.inRotationGauge = Gauge(label: "gateway_backend_in_rotation",
                                     dimensions: [("service", service), ("instance", instance.id)])
        inRotationGauge.record(1)
    }

    /// Whether calls go to it: until a check says otherwise (UNKNOWN counts as in rotation, so
    /// the first second after start does not refuse every call), and while it says SERVING.
    var inRotation: Bool { state.withLock { $0.status == .serving || $0.status == .unknown } }

    /// Records a health check's result.
    func recordCheck(_ status: Retain_V1_ServingStatus, error: String = "") {
        let now = ServiceClock.system.now()
        let inRotation = state.withLock { state in
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
        inRotationGauge.record(inRotation ? 1 : 0)
    }

    /// Takes the instance out of rotation at once after a call could not reach it; the next
    /// successful check puts it back.
    func markUnreachable(_ error: RPCError) {
        let now = ServiceClock.system.now()
        state.withLock { state in
            if state.status != .notServing {
                state.status = .notServing
                state.statusSinceMs = now
            }
            state.lastError = error.message
        }
        inRotationGauge.record(0)
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
            let created = Counter(label: "gateway_backend_calls_total",
                                  dimensions: [("service", service), ("instance", instance.id), ("code", code.name)])
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
                service: service, instanceId: instance.id, address: instance.address, status: state.status,
                lastCheckMs: state.lastCheckMs, statusSinceMs: state.statusSinceMs,
                consecutiveFailures: state.consecutiveFailures,
                inRotation: state.status == .serving || state.status == .unknown, calls: state.calls, errors: state.errors,
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
