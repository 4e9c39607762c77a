import Metrics
import NIOCore
import RetainProto
import RetainWire
import Synchronization

/// Per-method call counts, errors and latency, reported through swift-metrics:
/// `rpc_server_handled_total{method,code}`, `rpc_server_handling_seconds{method}`,
/// `rpc_server_unknown_method_total`, `rpc_server_connections` (gauge).
final class ServerMetrics: Sendable {
    private let methods: Mutex<[String: MethodMetrics]> = Mutex([:])
    private let unknown = Counter(label: "rpc_server_unknown_method_total")
    private let connections = Meter(label: "rpc_server_connections")

    func connectionOpened() { connections.increment() }
    func connectionClosed() { connections.decrement() }

    /// The metrics of one method, created on first use.
    func method(_ path: String) -> MethodMetrics {
        methods.withLock { table in
            if let existing = table[path] { return existing }
            let created = MethodMetrics(path: path)
            table[path] = created
            return created
        }
    }

    func unknownMethod() { unknown.increment() }

    /// Paths served by a router's fallback get metrics of their own, up to this many distinct
    /// paths; the rest share the path "other", so that junk paths cannot grow the metrics forever.
    static let maximumFallbackPaths = 512

    /// The metrics of a path served by the router's fallback.
    func fallbackMethod(_ path: String) -> MethodMetrics {
        methods.withLock { table in
            if let existing = table[path] { return existing }
            let key = table.count < Self.maximumFallbackPaths ? path : "other"
            if let existing = table[key] { return existing }
            let created = MethodMetrics(path: key)
            table[key] = created
            return created
        }
    }
}

/// Metrics of one method.
final class MethodMetrics: Sendable {
    private let path: String
    private let ok: Counter
    private let latency: Metrics.Timer
    private let failures: Mutex<[UInt32: Counter]> = Mutex([:])

    init(path: String) {
        self.path = path
        ok = Counter(label: "rpc_server_handled_total", dimensions: [("method", path), ("code", "OK")])
        latency = Metrics.Timer(
            label: "rpc_server_handling_seconds", dimensions: [("method", path)],
            preferredDisplayUnit: .seconds)
    }

    /// Records a finished call.
    func finished(_ code: RPCStatusCode, since started: NIODeadline) {
        latency.recordNanoseconds((NIODeadline.now() - started).nanoseconds)
        if code == .ok {
            ok.increment()
            return
        }
        let counter = failures.withLock { table in
            if let existing = table[code.rawValue] { return existing }
            let created = Counter(label: "rpc_server_handled_total", dimensions: [("method", path), ("code", code.name)])
            table[code.rawValue] = created
            return created
        }
        counter.increment()
    }
}
