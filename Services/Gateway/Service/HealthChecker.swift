import GatewayCore
public import Logging
import RetainProto
public import RetainRPC
public import ServiceLifecycle

/// Checks every backend instance with `retain.v1.Health/Check` for its service, every
/// `interval`: an instance that fails a check (no answer within the timeout, NOT_SERVING, or a
/// process that does not serve the service) leaves the rotation until a check succeeds again.
/// Also reports each backend service in the gateway's own Health: SERVING while at least one of
/// its instances is. A shard's instance is checked at its current leader; one without a leader
/// is not checked (it is out of rotation until the watch names one).
public struct HealthChecker: Service {
    let forwarder: Forwarder
    let health: HealthStatus
    let interval: Duration
    let timeout: Duration
    let logger: Logger

    public init(
        forwarder: Forwarder, health: HealthStatus, interval: Duration = .seconds(1),
        timeout: Duration = .milliseconds(800), logger: Logger
    ) {
        self.forwarder = forwarder
        self.health = health
        self.interval = interval
        self.timeout = timeout
        self.logger = logger
        for name in forwarder.services.keys { health.set(name, .unknown) }
    }

    /// Checks until graceful shutdown or cancellation.
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await checkAll()
                try? await Task.sleep(for: interval)
            }
        }
    }

    /// Checks every instance once, concurrently, and updates the services' health.
    public func checkAll() async {
        let services = forwarder.services
        await withTaskGroup(of: Void.self) { group in
            for service in services.values {
                for backend in service.backends {
                    group.addTask { await check(backend) }
                }
            }
        }
        for service in services.values {
            health.set(service.name, service.anyInRotation ? .serving : .notServing)
        }
    }

    private func check(_ backend: Backend) async {
        // A shard without a leader has nowhere to check; it is out of rotation until one comes.
        guard let endpoint = backend.endpoint else { return }
        let wasInRotation = backend.inRotation
        do {
            let answer = try await endpoint.client.unary(
                Retain_V1_Health.check, Retain_V1_HealthCheckRequest(service: backend.service),
                options: CallOptions(timeout: timeout))
            backend.recordCheck(
                answer.status, error: answer.status == .serving ? "" : "health check: \(answer.status)",
                generation: endpoint.generation)
        } catch {
            backend.recordCheck(.notServing, error: "health check: \(error)", generation: endpoint.generation)
        }
        if wasInRotation != backend.inRotation {
            logger.notice(
                backend.inRotation ? "backend back in rotation" : "backend out of rotation",
                metadata: [
                    "service": "\(backend.service)", "instance": "\(backend.id)", "address": "\(endpoint.instance.address)",
                ])
        }
    }
}
