public import ArgumentParser
public import RetainWebhooks

/// The webhook delivery flags every service that hosts webhooks takes (docs/WEBHOOKS.md).
public struct WebhookOptions: ParsableArguments, Sendable {
    @Option(name: .customLong("webhook-timeout-ms"), help: "One webhook attempt's time limit.")
    public var timeoutMs: Int64 = 10_000

    @Option(name: .customLong("webhook-initial-backoff-ms"), help: "Delay before a failed webhook delivery's first retry.")
    public var initialBackoffMs: Int64 = 1_000

    @Option(name: .customLong("webhook-max-backoff-ms"), help: "Longest delay between webhook attempts.")
    public var maximumBackoffMs: Int64 = 3_600_000

    @Option(name: .customLong("webhook-max-attempts"), help: "Attempts before a webhook delivery becomes a dead letter.")
    public var maximumAttempts: UInt32 = 20

    @Option(name: .customLong("webhook-max-age-ms"), help: "Age after which a webhook delivery becomes a dead letter.")
    public var maximumAgeMs: Int64 = 3 * 86_400_000

    @Option(name: .customLong("webhook-poll-ms"), help: "How often due webhook deliveries are looked for.")
    public var pollMs: Int = 100

    @Option(name: .customLong("webhook-concurrency"), help: "Webhook attempts in flight at most.")
    public var concurrency: Int = 32

    public init() {}

    public func validate() throws {
        guard timeoutMs > 0, initialBackoffMs > 0, maximumBackoffMs >= initialBackoffMs, maximumAttempts >= 1,
            maximumAgeMs > 0, pollMs > 0, concurrency >= 1
        else {
            throw ValidationError(
                "webhook options: timeouts, backoffs, attempts, age, poll and concurrency must be positive, and the maximum backoff at least the initial one"
            )
        }
    }

    /// The deliverer's configuration these flags give.
    public func configuration<State: WebhookHosting>(for: State.Type) -> WebhookDeliverer<State>.Configuration {
        var configuration = WebhookDeliverer<State>.Configuration()
        configuration.attemptTimeout = .milliseconds(timeoutMs)
        configuration.retry.initialBackoffMs = initialBackoffMs
        configuration.retry.maximumBackoffMs = maximumBackoffMs
        configuration.retry.maximumAttempts = maximumAttempts
        configuration.retry.maximumAgeMs = maximumAgeMs
        configuration.pollInterval = .milliseconds(pollMs)
        configuration.maximumConcurrentAttempts = concurrency
        return configuration
    }
}
