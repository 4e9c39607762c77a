public import RetainProto
import Synchronization

/// Verifies `Bearer` service tokens for a service, remembering verified tokens so that the hot
/// path is one dictionary lookup instead of an HMAC.
public final class TokenVerifier: CallAuthenticator {
    /// Cache size and clock.
    public struct Configuration: Sendable {
        /// Verified tokens remembered; when full, expired ones are dropped, then all. Default 4096.
        public var cacheCapacity: Int = 4096
        /// The clock, Unix ms (tests may fix it). Default the wall clock.
        public var now: @Sendable () -> Int64 = { WallClock.nowMs() }
        public init() {}
    }

    private let secret: ServiceSecret
    private let configuration: Configuration
    private let cache = Mutex<[String: Caller]>([:])

    public init(secret: ServiceSecret, configuration: Configuration = Configuration()) {
        self.secret = secret
        self.configuration = configuration
    }

    public func nowMs() -> Int64 { configuration.now() }

    /// Accepts `Bearer <token>`; throws UNAUTHENTICATED otherwise.
    public func authenticate(_ authorization: String) throws(RPCError) -> Caller {
        guard !authorization.isEmpty else {
            throw RPCError(.unauthenticated, "missing credential: send authorization 'Bearer <service token>'")
        }
        guard authorization.hasPrefix("Bearer ") else {
            throw RPCError(.unauthenticated, "unsupported credential: services accept only 'Bearer <service token>'")
        }
        return try verify(String(authorization.dropFirst(7)))
    }

    /// Verifies a token (without `Bearer `): from the cache while it is valid, else by its HMAC.
    public func verify(_ token: String) throws(RPCError) -> Caller {
        let now = configuration.now()
        if let caller = cache.withLock({ $0[token] }) {
            guard now <= caller.expiresAtMs + ServiceToken.clockSkewMs else {
                throw RPCError(.unauthenticated, TokenError.expired(agoMs: now - caller.expiresAtMs).description)
            }
            return caller
        }
        let verified: ServiceToken
        do {
            verified = try ServiceToken.verify(token, secret: secret, nowMs: now)
        } catch {
            throw RPCError(.unauthenticated, error.description)
        }
        let caller = Caller(id: verified.subject, issuer: verified.issuer, scopes: verified.scopes,
                            expiresAtMs: verified.expiresAtMs)
        let capacity = configuration.cacheCapacity
        cache.withLock { cache in
            if cache.count >= capacity {
                cache = cache.filter { now <= $0.value.expiresAtMs + ServiceToken.clockSkewMs }
                if cache.count >= capacity { cache.removeAll(keepingCapacity: true) }
            }
            cache[token] = caller
        }
        return caller
    }

    /// Tokens remembered now (for tests).
    public var cachedCount: Int { cache.withLock { $0.count } }
}
