public import RetainWire
import Synchronization
import RetainClock

/// The gateway's authenticator: callers present `ApiKey <key>` (or a service token as
/// `Bearer <token>`, so that services may call through the gateway); every call is counted
/// against its caller's rate limit.
public final class APIKeyAuthenticator: CallAuthenticator {
    /// The default rate limit.
    public struct Configuration: Sendable {
        /// The limit of keys that name none, and of service tokens. Default 200/s, burst 400.
        public var defaultRateLimit: RateLimiter.Limit = .default
        public init() {}
    }

    private let keyStore: Mutex<APIKeyStore>
    private let tokens: TokenVerifier?
    /// How long a connection may reuse an API key's verification before it is checked again
    /// (so a key removed by a reload stops working on open connections too): 30 s.
    public static let reverifyAfterMs: Int64 = 30_000
    private let limiter: RateLimiter
    private let configuration: Configuration

    /// Accepts the keys of `keys`, and service tokens when `tokens` is given.
    public init(
        keys: APIKeyStore, tokens: TokenVerifier?, configuration: Configuration = Configuration(),
        limiter: RateLimiter = RateLimiter()
    ) {
        self.keyStore = Mutex(keys)
        self.tokens = tokens
        self.limiter = limiter
        self.configuration = configuration
    }

    public func nowMs() -> Int64 { tokens?.nowMs() ?? WallClock.nowMs() }

    /// The keys in force.
    public var keys: APIKeyStore { keyStore.withLock { $0 } }

    /// Puts `keys` in force (a reload of the key file): removed keys are refused from the next
    /// check on, within ``reverifyAfterMs`` on connections that already use them.
    public func replaceKeys(_ keys: APIKeyStore) {
        keyStore.withLock { $0 = keys }
    }

    public func authenticate(_ authorization: String) throws(RPCError) -> Caller {
        if authorization.hasPrefix("ApiKey ") {
            guard let entry = keys.lookup(String(authorization.dropFirst(7))) else {
                throw RPCError(.unauthenticated, "unknown API key")
            }
            return Caller(id: entry.id, issuer: "api-key", scopes: entry.scopes, expiresAtMs: nowMs() + Self.reverifyAfterMs)
        }
        if authorization.hasPrefix("Bearer "), let tokens {
            return try tokens.authenticate(authorization)
        }
        if authorization.isEmpty {
            throw RPCError(.unauthenticated, "missing credential: send authorization 'ApiKey <key>'")
        }
        throw RPCError(.unauthenticated, "unsupported credential: the gateway accepts 'ApiKey <key>' or 'Bearer <service token>'")
    }

    /// Counts the call against the caller's bucket: RESOURCE_EXHAUSTED with a retry hint when empty.
    public func admit(_ caller: Caller, method: String) throws(RPCError) {
        let limit =
            caller.issuer == "api-key"
            ? keys.entries[caller.id]?.rateLimit ?? configuration.defaultRateLimit
            : configuration.defaultRateLimit
        let bucket = caller.issuer == "api-key" ? caller.id : "\(caller.issuer)/\(caller.id)"
        if let wait = limiter.acquire(bucket, limit: limit) {
            let millis = max(1, wait.components.seconds * 1000 + wait.components.attoseconds / 1_000_000_000_000_000)
            throw RPCError(
                .resourceExhausted,
                "rate limit of '\(caller.id)' exceeded (\(limit.perSecond)/s, burst \(Int(limit.burst))): retry after \(millis) ms",
                details: ["retry_after_ms": "\(millis)"])
        }
    }
}
