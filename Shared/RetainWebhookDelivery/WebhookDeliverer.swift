import AsyncHTTPClient
public import Logging
import NIOCore
import NIOPosix
import NIOHTTP1
public import RetainClock
import RetainProto
public import RetainState
public import RetainWebhooks
public import ServiceLifecycle
import Synchronization

/// Sends a service's queued webhook deliveries (docs/WEBHOOKS.md): every `pollInterval` it reads
/// the deliveries that are due (durably: a delivery is sent only once the entry that queued it
/// is durable), POSTs each signed body with AsyncHTTPClient, and logs each attempt's result
/// (delivered, retry at a time decided here with its jitter, dead letter) like any other change.
///
/// Runs only where writes are accepted: unreplicated always, replicated only on the shard's
/// leader (a replica learns the results through the log, and a new leader goes on from them).
/// A delivery whose result was not logged (a crash, a failover, a shutdown in the middle) is
/// sent again with the same delivery id: delivery is at least once.
public final class WebhookDeliverer<State: WebhookHosting>: Service, Sendable {
    /// Timeouts, retries and concurrency.
    public struct Configuration: Sendable {
        /// Backoff and when to give up.
        public var retry = WebhookRetryPolicy()
        /// One attempt's time limit (connect, send, answer). Default 10 s.
        public var attemptTimeout: Duration = .seconds(10)
        /// How often due deliveries are looked for. Default 100 ms.
        public var pollInterval: Duration = .milliseconds(100)
        /// Attempts in flight at most, over all endpoints. Default 32.
        public var maximumConcurrentAttempts = 32

        public init() {}
    }

    private let store = Mutex<StateStore<State>?>(nil)
    private let configuration: Configuration
    private let clock: ServiceClock
    private let logger: Logger
    private let inFlight = Mutex<Set<String>>([])
    private let buckets = Mutex<[String: TokenBucket]>([:])
    private let started = ContinuousClock.now

    public init(configuration: Configuration = Configuration(), clock: ServiceClock = .system, logger: Logger) {
        self.configuration = configuration
        self.clock = clock
        self.logger = logger
    }

    /// The store whose outbox to deliver (set before the service group runs).
    public func attach(_ store: StateStore<State>) {
        self.store.withLock { $0 = store }
    }

    public func run() async throws {
        var httpConfiguration = HTTPClient.Configuration()
        httpConfiguration.redirectConfiguration = .disallow
        httpConfiguration.timeout = .init(connect: .init(configuration.attemptTimeout), read: .init(configuration.attemptTimeout))
        httpConfiguration.decompression = .disabled
        let client = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: httpConfiguration)
        await withDiscardingTaskGroup { group in
            while !Task.isShuttingDownGracefully, !Task.isCancelled {
                try? await Task.sleep(for: configuration.pollInterval)
                guard let store = store.withLock({ $0 }) else { continue }
                if let gate = store.commitGate, gate.writeRefusal() != nil { continue }
                for (delivery, subscription) in await due(store) {
                    group.addTask { [self] in
                        await attempt(delivery, subscription, store: store, client: client)
                        _ = inFlight.withLock { $0.remove(delivery.deliveryId) }
                    }
                }
            }
            group.cancelAll()
        }
        try? await client.shutdown()
    }

    /// The deliveries to attempt now, marked in flight, within the concurrency limit and each
    /// endpoint's rate.
    private func due(_ store: StateStore<State>) async -> [(Retain_V1_WebhookDelivery, Retain_V1_WebhookSubscription)] {
        let busy = inFlight.withLock { $0 }
        let room = configuration.maximumConcurrentAttempts - busy.count
        guard room > 0 else { return [] }
        let seconds = Self.seconds(ContinuousClock.now - started)
        let now = clock.now()
        let chosen: [(Retain_V1_WebhookDelivery, Retain_V1_WebhookSubscription)]
        do {
            if store.read({ $0.webhooks.pendingCount == 0 }) { return [] }
            let tokens = buckets.withLock { buckets in buckets }
            chosen = try await store.readDurably { state in
                state.webhooks.due(now: now, limit: room, excluding: busy) { subscription in
                    var bucket = tokens[subscription.id] ?? Self.bucket(subscription, now: seconds)
                    return bucket.available(now: seconds)
                }
            }
        } catch {
            logger.debug("webhook deliveries not read: \(error)")
            return []
        }
        buckets.withLock { buckets in
            for (_, subscription) in chosen {
                var bucket = buckets[subscription.id] ?? Self.bucket(subscription, now: seconds)
                if bucket.rate != subscription.ratePerSecond || bucket.capacity != Double(max(subscription.burst, 1)) {
                    bucket = Self.bucket(subscription, now: seconds)
                }
                _ = bucket.take(now: seconds)
                buckets[subscription.id] = bucket
            }
        }
        inFlight.withLock { set in for (delivery, _) in chosen { set.insert(delivery.deliveryId) } }
        return chosen
    }

    private static func bucket(_ subscription: Retain_V1_WebhookSubscription, now: Double) -> TokenBucket {
        TokenBucket(rate: subscription.ratePerSecond, capacity: Double(max(subscription.burst, 1)), now: now)
    }

    private static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    /// One attempt: POST, classify, log the result (unless shutting down mid-attempt: then the
    /// delivery stays pending and is sent again, with the same id, by whoever leads next).
    private func attempt(
        _ delivery: Retain_V1_WebhookDelivery, _ subscription: Retain_V1_WebhookSubscription,
        store: StateStore<State>, client: HTTPClient
    ) async {
        let body = WebhookBody.encode(delivery)
        var request = HTTPClientRequest(url: subscription.url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "Retain-Webhooks/1")
        request.headers.add(name: WebhookSignature.deliveryIDHeader, value: delivery.deliveryId)
        request.headers.add(name: WebhookSignature.eventTypeHeader, value: delivery.eventType)
        request.headers.add(name: WebhookSignature.attemptHeader, value: String(delivery.attempts + 1))
        request.headers.add(
            name: WebhookSignature.header,
            value: WebhookSignature.sign(body: body, secret: subscription.secret, timestamp: clock.now() / 1000))
        request.body = .bytes(ByteBuffer(bytes: body))
        var status: UInt32?
        var failure = ""
        do {
            let response = try await client.execute(request, timeout: .init(configuration.attemptTimeout))
            status = UInt32(response.status.code)
            _ = try? await response.body.collect(upTo: 64 << 10)
            if !(200..<300).contains(response.status.code) { failure = "HTTP \(response.status.code)" }
        } catch {
            failure = String("\(error)".prefix(512))
        }
        if Task.isCancelled { return }
        let result = configuration.retry.result(
            of: delivery, status: status, error: failure, now: clock.now(), random: Double.random(in: 0..<1))
        do {
            try await store.writeDurably { transaction in
                _ = try transaction.log(State.webhookEntry(Retain_V1_WebhookLogEntry(attempts: [result])))
            }
        } catch {
            logger.warning(
                "webhook attempt not recorded; it will be made again",
                metadata: ["delivery": "\(delivery.deliveryId)", "error": "\(error)"])
            return
        }
        if result.outcome != .delivered {
            logger.info(
                "webhook attempt failed",
                metadata: [
                    "delivery": "\(delivery.deliveryId)", "subscription": "\(subscription.id)", "attempt": "\(delivery.attempts + 1)",
                    "outcome": "\(result.outcome.protoValueName ?? "?")", "error": "\(failure)",
                ])
        }
    }
}
