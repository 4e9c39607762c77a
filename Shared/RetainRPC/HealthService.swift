public import RetainProto
import RetainWire
import Synchronization

/// Serving status per service name, served as `retain.v1.Health` (shaped like grpc.health.v1).
/// The empty name stands for the whole server.
public final class HealthStatus: Sendable {
    private struct State {
        var statuses: [String: Retain_V1_ServingStatus] = [:]
        var watchers: [Int: (service: String, continuation: AsyncStream<Retain_V1_ServingStatus>.Continuation)] = [:]
        var nextWatcher = 0
    }

    private let state: Mutex<State> = Mutex(State())

    public init() {}

    /// Sets the status of `service` ("" for the whole server) and tells its watchers.
    public func set(_ service: String, _ status: Retain_V1_ServingStatus) {
        let watchers = state.withLock { state in
            state.statuses[service] = status
            return state.watchers.values.filter { $0.service == service }.map(\.continuation)
        }
        for watcher in watchers { watcher.yield(status) }
    }

    /// The status of `service`, or nil when it is not known.
    public func status(of service: String) -> Retain_V1_ServingStatus? {
        state.withLock { $0.statuses[service] }
    }

    /// Every service that has a status.
    public var services: [String] {
        state.withLock { Array($0.statuses.keys) }
    }

    /// Ends every Watch stream (their calls finish with OK), so that draining is not held up by
    /// watchers; called once the server has reported NOT_SERVING.
    public func endWatches() {
        let watchers = state.withLock { state in
            defer { state.watchers.removeAll() }
            return state.watchers.values.map(\.continuation)
        }
        for watcher in watchers { watcher.finish() }
    }

    /// A stream of the status of `service`: its current value first, then every change.
    func watch(_ service: String) -> AsyncStream<Retain_V1_ServingStatus> {
        let (stream, continuation) = AsyncStream<Retain_V1_ServingStatus>.makeStream(bufferingPolicy: .bufferingNewest(8))
        let id = state.withLock { state in
            let id = state.nextWatcher
            state.nextWatcher += 1
            state.watchers[id] = (service, continuation)
            continuation.yield(state.statuses[service] ?? .serviceUnknown)
            return id
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.watchers.removeValue(forKey: id) }
        }
        return stream
    }

    /// The Health service's methods.
    var router: RPCRouter {
        var router = RPCRouter()
        router.unary(Retain_V1_Health.check) { [self] request, _ in
            guard let status = self.status(of: request.service) else {
                throw RPCError(.notFound, "unknown service \(FieldFormat.quoted(request.service))")
            }
            return Retain_V1_HealthCheckResponse(status: status)
        }
        router.serverStreaming(Retain_V1_Health.watch) { [self] request, _, writer in
            for await status in self.watch(request.service) {
                try await writer.send(Retain_V1_HealthCheckResponse(status: status))
            }
        }
        return router
    }
}
