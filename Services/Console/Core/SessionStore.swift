public import RetainAuth
import Synchronization

/// The console's signed-in sessions, in memory: a restart signs everyone out, which is what an
/// operator expects of a console that holds API keys only while it runs.
///
/// Sessions end after an idle time and after a maximum age; when the store is full the session
/// seen longest ago is dropped. The clock is injected so that tests move time.
public final class SessionStore: Sendable {
    /// Limits of the store.
    public struct Configuration: Sendable {
        /// A session with no request for this long ends. Default 8 hours.
        public var idleTimeoutMs: Int64 = 8 * 3_600_000
        /// A session ends this long after sign-in, however busy. Default 24 hours.
        public var maximumAgeMs: Int64 = 24 * 3_600_000
        /// Most sessions held at once. Default 10,000.
        public var capacity: Int = 10_000

        public init() {}
    }

    private let configuration: Configuration
    private let nowMs: @Sendable () -> Int64
    private let random: @Sendable () -> [UInt8]
    private let sessions = Mutex<[String: ConsoleSession]>([:])

    /// - Parameters:
    ///   - nowMs: the clock, Unix ms.
    ///   - random: 32 random bytes per call (tokens); default the system's generator.
    public init(
        configuration: Configuration = Configuration(), nowMs: @escaping @Sendable () -> Int64,
        random: @escaping @Sendable () -> [UInt8] = SessionStore.systemRandom
    ) {
        self.configuration = configuration
        self.nowMs = nowMs
        self.random = random
    }

    /// 32 bytes from the system's cryptographically secure generator.
    public static let systemRandom: @Sendable () -> [UInt8] = {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }

    /// Starts a session for a key that the key file knows.
    public func create(apiKey: String, keyID: String, scopes: ScopeSet, language: Language) -> ConsoleSession {
        let now = nowMs()
        let session = ConsoleSession(
            token: Self.base64URL(random()), apiKey: apiKey, keyID: keyID, scopes: scopes, formToken: Self.base64URL(random()),
            language: language, createdAtMs: now, lastSeenMs: now)
        let capacity = configuration.capacity
        sessions.withLock { sessions in
            if sessions.count >= capacity, let oldest = sessions.values.min(by: { $0.lastSeenMs < $1.lastSeenMs }) {
                sessions[oldest.token] = nil
            }
            sessions[session.token] = session
        }
        return session
    }

    /// The live session of `token`, marked seen now; nil (and forgotten) when unknown or ended.
    public func session(_ token: String?) -> ConsoleSession? {
        guard let token, !token.isEmpty else { return nil }
        let now = nowMs()
        let configuration = configuration
        return sessions.withLock { sessions in
            guard var session = sessions[token] else { return nil }
            if now - session.lastSeenMs > configuration.idleTimeoutMs || now - session.createdAtMs > configuration.maximumAgeMs {
                sessions[token] = nil
                return nil
            }
            session.lastSeenMs = now
            sessions[token] = session
            return session
        }
    }

    /// Changes a session's language.
    public func setLanguage(_ language: Language, token: String) {
        sessions.withLock { $0[token]?.language = language }
    }

    /// Ends a session (sign-out).
    public func remove(_ token: String) {
        _ = sessions.withLock { $0.removeValue(forKey: token) }
    }

    /// Sessions held now (ended ones included until they are next looked up).
    public var count: Int { sessions.withLock { $0.count } }

    /// `bytes` in base64url without padding (RFC 4648 section 5): safe in a cookie and a form.
    static func base64URL(_ bytes: [UInt8]) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".unicodeScalars)
        var out = ""
        var index = 0
        while index < bytes.count {
            let chunk = bytes[index..<min(index + 3, bytes.count)]
            var value: UInt32 = 0
            for byte in chunk { value = value << 8 | UInt32(byte) }
            value <<= UInt32(8 * (3 - chunk.count))
            for position in 0..<(chunk.count + 1) {
                out.unicodeScalars.append(alphabet[Int(value >> UInt32(18 - 6 * position) & 0x3F)])
            }
            index += 3
        }
        return out
    }
}
