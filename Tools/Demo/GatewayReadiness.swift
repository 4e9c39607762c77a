public import RetainProto
public import RetainRPC
import RetainWire

/// Waits until a gateway reports each backend service SERVING (its Health answers per service
/// from its own health checks), so a run does not start while a backend is still out of
/// rotation.
public enum GatewayReadiness {
    /// The backend services of the suite.
    public static let services = ["retain.v1.Profile", "retain.v1.Growth", "retain.v1.Ledger", "retain.v1.Feedback"]

    /// Polls the gateway's Health every 50 ms until each of `services` is SERVING.
    /// - Throws: UNAVAILABLE naming the services still not serving after `timeout`.
    public static func wait(
        client: RPCClient, options: CallOptions, services: [String] = services,
        timeout: Duration = .seconds(20)
    ) async throws {
        let deadline = ContinuousClock.now + timeout
        var waiting = services
        while true {
            var still: [String] = []
            for service in waiting {
                let status = try? await client.unary(
                    Retain_V1_Health.check, Retain_V1_HealthCheckRequest(service: service),
                    options: options
                ).status
                if status != .serving { still.append(service) }
            }
            waiting = still
            if waiting.isEmpty { return }
            guard ContinuousClock.now < deadline else {
                throw RPCError(.unavailable, "the gateway does not report \(waiting.joined(separator: ", ")) SERVING after \(timeout)")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}
