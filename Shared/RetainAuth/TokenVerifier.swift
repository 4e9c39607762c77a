public import RetainWire
import Synchronization
import RetainClock

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

    /// The secret tokens are checked against, and the one before it while its grace lasts.
    private struct Secrets {
        var current: ServiceSecret
        var previous: ServiceSecret?
        var previousUntilMs: Int64 = 0
    }

    private let secrets: Mutex<Secrets>
    private let configuration: Configuration
    private let cache = Mutex<[String: Caller]>([:])

    public init(secret: ServiceSecret, configuration: Configuration = Configuration()) {
        self.secrets = Mutex(Secrets(current: secret))
        self.configuration = configuration
    }

    /// Rotates the secret: tokens signed with `secret` are accepted from now on, and those signed
    /// with the one it replaces for `graceMs` more (so tokens minted before the rotation keep
    /// working until they expire, with the default 5-minute lifetime). Remembered tokens are
    /// forgotten, so each is checked again against the secrets now in force.
    public func rotate(to secret: ServiceSecret, graceMs: Int64) {
        let now = configuration.now()
        secrets.withLock { secrets in
            secrets.previous = secrets.current
            secrets.previousUntilMs = now + max(0, graceMs)
            secrets.current = secret
        }
        cache.withLock { $0.removeAll(keepingCapacity: true) }
    }

    /// Verifies against the current secret, then the previous one while its grace lasts; also
    /// returns until when the token is good (a token of the previous secret: the grace's end).
    private func verifySignature(_ token: String, now: Int64) throws(TokenError) -> (ServiceToken, validUntilMs: Int64) {
        let (current, previous, previousUntil) = secrets.withLock { ($0.current, $0.previous, $0.previousUntilMs) }
        do {
            let verified = try ServiceToken.verify(token, secret: current, nowMs: now)
            return (verified, verified.expiresAtMs)
        } catch {
            guard let previous, now <= previousUntil, let accepted = try? ServiceToken.verify(token, secret: previous, nowMs: now)
            else { throw error }
            // Every check of a caller's expiry adds the clock-skew allowance; the grace's end
            // gets none, so it is taken off here.
            return (accepted, min(accepted.expiresAtMs, previousUntil - ServiceToken.clockSkewMs))
        }
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
        let validUntil: Int64
        do {
            (verified, validUntil) = try verifySignature(token, now: now)
        } catch {
            throw RPCError(.unauthenticated, error.description)
        }
        let caller = Caller(
            id: verified.subject, issuer: verified.issuer, scopes: verified.scopes,
            expiresAtMs: validUntil)
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
