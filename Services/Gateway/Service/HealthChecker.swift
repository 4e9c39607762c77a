import GatewayCore
public import Logging
import RetainProto
public import RetainRPC
public import ServiceLifecycle

/// Checks every backend instance with `retain.v1.Health/Check` for its service, every
/// `interval`: an instance that fails a check (no answer within the timeout, NOT_SERVING, or a
/// process that does not serve the service) leaves the rotation until a check succeeds again.
/// Also reports each backend service in the gateway's own Health: SERVING while at least one of
/// its instances is.
public struct HealthChecker: Service {
    let forwarder: Forwarder
    let health: HealthStatus
    let interval: Duration
    let timeout: Duration
    let logger: Logger

    public init(forwarder: Forwarder, health: HealthStatus, interval: Duration = .seconds(1),
                timeout: Duration = .milliseconds(800), logger: Logger) {
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
        await withTaskGroup(of: Void.self) { group in
            for service in forwarder.services.values {
                for backend in service.backends {
                    group.addTask { await check(backend) }
                }
            }
        }
        for service in forwarder.services.values {
            health.set(service.name, service.anyInRotation ? .serving : .notServing)
        }
    }

    private func check(_ backend: Backend) async {
        let wasInRotation = backend.inRotation
        do {
            let answer = try await backend.client.unary(
                Retain_V1_Health.check, Retain_V1_HealthCheckRequest(service: backend.service),
                options: CallOptions(timeout: timeout))
            backend.recordCheck(answer.status, error: answer.status == .serving ? "" : "health check: \(answer.status)")
        } catch {
            backend.recordCheck(.notServing, error: "health check: \(error)")
        }
        if wasInRotation != backend.inRotation {
            logger.notice(backend.inRotation ? "backend back in rotation" : "backend out of rotation", metadata: [
                "service": "\(backend.service)", "instance": "\(backend.instance.id)", "address": "\(backend.instance.address)",
            ])
        }
    }
}
