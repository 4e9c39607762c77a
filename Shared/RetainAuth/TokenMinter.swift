import Synchronization
import RetainClock

/// Mints service tokens for the calls a process makes, reusing each until it nears expiry.
public final class TokenMinter: Sendable {
    /// Issuer, lifetime and clock.
    public struct Configuration: Sendable {
        /// The name written as issuer (the minting service). Default `service`.
        public var issuer: String = "service"
        /// Lifetime of a new token. Default 5 minutes.
        public var lifetimeMs: Int64 = ServiceToken.defaultLifetimeMs
        /// A token is replaced once less than this is left. Default 1 minute.
        public var renewBeforeMs: Int64 = 60_000
        /// The clock, Unix ms.
        public var now: @Sendable () -> Int64 = { WallClock.nowMs() }
        public init() {}
        public init(issuer: String) { self.issuer = issuer }
    }

    private struct Key: Hashable {
        let subject: String
        let scopes: ScopeSet
    }

    private let secret: Mutex<ServiceSecret>
    public let configuration: Configuration
    private let cache = Mutex<[Key: (token: String, expiresAtMs: Int64)]>([:])

    public init(secret: ServiceSecret, configuration: Configuration = Configuration()) {
        precondition(ServiceToken.isValidName(configuration.issuer), "issuer must match [A-Za-z0-9_-]{1,64}")
        self.secret = Mutex(secret)
        self.configuration = configuration
    }

    /// Signs new tokens with `secret` from now on (tokens already handed out stay as they are:
    /// services accept them during their grace period after the same rotation).
    public func rotate(to secret: ServiceSecret) {
        self.secret.withLock { $0 = secret }
        cache.withLock { $0.removeAll() }
    }

    /// `Bearer <token>` for `subject` (the issuer itself when nil) with `scopes`; a cached token
    /// while more than `renewBeforeMs` of it is left.
    public func authorization(subject: String? = nil, scopes: ScopeSet) -> String {
        let key = Key(subject: subject.flatMap { ServiceToken.isValidName($0) ? $0 : nil } ?? configuration.issuer, scopes: scopes)
        let now = configuration.now()
        if let cached = cache.withLock({ $0[key] }), cached.expiresAtMs - now > configuration.renewBeforeMs {
            return cached.token
        }
        let expires = now + configuration.lifetimeMs
        let token =
            "Bearer "
            + ServiceToken(
                issuer: configuration.issuer, subject: key.subject, scopes: scopes,
                expiresAtMs: expires
            ).signed(with: secret.withLock { $0 })
        cache.withLock { cache in
            if cache.count >= 1024 { cache.removeAll() }
            cache[key] = (token, expires)
        }
        return token
    }

    /// `Bearer <token>` for this process's own call of `method`, with just the scope it needs.
    public func authorization(forMethod method: String) -> String {
        switch MethodAccessTable.access(for: method) {
        // A token with no scope on open methods (Health) too: it lets a server admit the
        // connection, which a server closes otherwise when no credential comes within its
        // admission timeout (a health checker's connection, for one).
        case .open: authorization(scopes: [])
        case .authenticated: authorization(scopes: [])
        case .scope(let scopes): authorization(scopes: scopes)
        }
    }
}
