import Crypto
public import Foundation

/// The API keys the gateway accepts, stored as SHA-256 hashes: the keys themselves are never
/// kept, logged or compared directly.
///
/// The key file (`--api-keys-file`) and `RETAIN_API_KEYS` hold the same JSON document:
///
/// ```json
/// {"keys": [
///   {"id": "ops", "sha256": "<64 hex digits: SHA-256 of the key's UTF-8 bytes>",
///    "scopes": ["admin"], "rate_limit": {"per_second": 50, "burst": 100}}
/// ]}
/// ```
/// `rate_limit` is optional (default ``RateLimiter/Limit/default``).
public struct APIKeyStore: Sendable {
    /// One accepted key.
    public struct Entry: Sendable, Hashable {
        /// The key's name, logged in its place: `[A-Za-z0-9_-]{1,64}`.
        public var id: String
        /// SHA-256 of the key.
        public var digest: [UInt8]
        /// What it allows.
        public var scopes: ScopeSet
        /// Its own rate limit, or nil for the gateway's default.
        public var rateLimit: RateLimiter.Limit?

        public init(id: String, digest: [UInt8], scopes: ScopeSet, rateLimit: RateLimiter.Limit? = nil) {
            self.id = id
            self.digest = digest
            self.scopes = scopes
            self.rateLimit = rateLimit
        }

        /// The entry as the key file holds it.
        public var json: String {
            var text =
                "{\"id\": \"\(id)\", \"sha256\": \"\(Base64URL.hex(digest))\", \"scopes\": [\(scopes.names.map { "\"\($0)\"" }.joined(separator: ", "))]"
            if let rateLimit {
                text += ", \"rate_limit\": {\"per_second\": \(rateLimit.perSecond), \"burst\": \(rateLimit.burst)}"
            }
            return text + "}"
        }
    }

    /// The environment variable that may hold a key document.
    public static let environmentVariable = "RETAIN_API_KEYS"

    /// Entries by the first 8 bytes of their digest.
    private var buckets: [UInt64: [Entry]] = [:]
    /// Every entry, by id.
    public private(set) var entries: [String: Entry] = [:]

    public init(_ entries: [Entry] = []) throws(AuthError) {
        for entry in entries { try add(entry) }
    }

    /// Adds an entry; throws when its id is taken.
    public mutating func add(_ entry: Entry) throws(AuthError) {
        guard entries[entry.id] == nil else { throw AuthError("API key id '\(entry.id)' appears twice") }
        entries[entry.id] = entry
        buckets[Self.prefix(entry.digest), default: []].append(entry)
    }

    /// The entry of `key`, found by its hash and compared in constant time; nil when unknown.
    public func lookup(_ key: String) -> Entry? {
        let digest = Array(SHA256.hash(data: Array(key.utf8)))
        for entry in buckets[Self.prefix(digest)] ?? [] where Base64URL.constantTimeEqual(entry.digest, digest) {
            return entry
        }
        return nil
    }

    private static func prefix(_ digest: [UInt8]) -> UInt64 {
        digest.prefix(8).reduce(0) { $0 << 8 | UInt64($1) }
    }

    /// Reads a key document; errors name the entry (index and id) and the field at fault.
    public static func parse(_ data: Data, source: String) throws(AuthError) -> [Entry] {
        let root: Any
        do {
            root = try JSONSerialization.jsonObject(with: data)
        } catch {
            throw AuthError("\(source): not valid JSON")
        }
        guard let object = root as? [String: Any], let keys = object["keys"] as? [Any] else {
            throw AuthError("\(source): expected an object with a \"keys\" array")
        }
        var entries: [Entry] = []
        for (index, item) in keys.enumerated() {
            guard let fields = item as? [String: Any] else { throw AuthError("\(source): keys[\(index)] is not an object") }
            let name = "\(source): keys[\(index)]" + ((fields["id"] as? String).map { " (id '\($0)')" } ?? "")
            guard let id = fields["id"] as? String, ServiceToken.isValidName(id) else {
                throw AuthError("\(name): id must be 1 to 64 of A-Z a-z 0-9 _ -")
            }
            guard let hex = fields["sha256"] as? String, hex.utf8.count == 64, let digest = Base64URL.bytes(hex: hex) else {
                throw AuthError("\(name): sha256 must be 64 hex digits (the SHA-256 of the key, never the key)")
            }
            guard let names = fields["scopes"] as? [String] else { throw AuthError("\(name): scopes must be an array of scope names") }
            let scopes: ScopeSet
            do {
                scopes = try ScopeSet(names: names)
            } catch {
                throw AuthError("\(name): \(error)")
            }
            var limit: RateLimiter.Limit?
            if let rate = fields["rate_limit"] {
                guard let rate = rate as? [String: Any], let perSecond = (rate["per_second"] as? NSNumber)?.doubleValue, perSecond > 0
                else {
                    throw AuthError("\(name): rate_limit needs a positive per_second")
                }
                let burst = (rate["burst"] as? NSNumber)?.doubleValue ?? max(1, perSecond)
                guard burst >= 1 else { throw AuthError("\(name): rate_limit.burst must be at least 1") }
                limit = RateLimiter.Limit(perSecond: perSecond, burst: burst)
            }
            if let unknown = fields.keys.first(where: { !["id", "sha256", "scopes", "rate_limit", "comment"].contains($0) }) {
                throw AuthError("\(name): unknown field '\(unknown)'")
            }
            entries.append(Entry(id: id, digest: digest, scopes: scopes, rateLimit: limit))
        }
        return entries
    }

    /// The keys of `file` and of `RETAIN_API_KEYS`, either or both.
    public static func load(
        file: String?, environment: [String: String] = ProcessInfo.processInfo.environment
    )
        throws(AuthError) -> APIKeyStore
    {
        var entries: [Entry] = []
        if let file {
            let data: Data
            do {
                data = try Data(contentsOf: URL(fileURLWithPath: file))
            } catch {
                throw AuthError("cannot read the API key file \(file): \(error.localizedDescription)")
            }
            entries += try parse(data, source: file)
        }
        if let text = environment[environmentVariable], !text.isEmpty {
            entries += try parse(Data(text.utf8), source: environmentVariable)
        }
        return try APIKeyStore(entries)
    }

    /// A new random key (`rk_` and 43 base64url characters) and its entry; the key is shown once.
    public static func makeKey(id: String, scopes: ScopeSet, rateLimit: RateLimiter.Limit? = nil) -> (key: String, entry: Entry) {
        var generator = SystemRandomNumberGenerator()
        let key = "rk_" + Base64URL.encode((0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
        return (key, Entry(id: id, digest: Array(SHA256.hash(data: Array(key.utf8))), scopes: scopes, rateLimit: rateLimit))
    }
}
