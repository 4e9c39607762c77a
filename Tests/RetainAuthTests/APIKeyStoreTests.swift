import Foundation
import RetainAuth
import RetainProto
import RetainWire
import Testing

/// API keys: hashing, lookup, the key file, and the rate limiter.
@Suite("API keys and rate limits")
struct APIKeyStoreTests {
    @Test("a made key is found by its hash; other keys are not; the entry holds no key")
    func makeAndLookup() throws {
        let (key, entry) = APIKeyStore.makeKey(id: "ops", scopes: [.read("growth")!])
        #expect(key.hasPrefix("rk_") && key.count == 46)
        #expect(!entry.json.contains(key))
        let parsed = try APIKeyStore.parse(Data("{\"keys\": [\(entry.json)]}".utf8), source: "test")
        let store = try APIKeyStore(parsed)
        #expect(store.lookup(key)?.id == "ops")
        #expect(store.lookup(key)?.scopes == [.read("growth")!])
        #expect(store.lookup(key + "x") == nil)
        #expect(store.lookup("") == nil)
    }

    @Test("the stored hash is SHA-256 of the key in hex")
    func hashFormat() throws {
        // sha256("abc")
        let document =
            #"{"keys": [{"id": "k", "sha256": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "scopes": ["admin"]}]}"#
        let store = try APIKeyStore(APIKeyStore.parse(Data(document.utf8), source: "f"))
        #expect(store.lookup("abc")?.id == "k")
    }

    @Test("file errors name the entry and the field")
    func fileErrors() throws {
        let good = "\"sha256\": \"\(String(repeating: "a", count: 64))\""
        let cases: [(String, String)] = [
            ("not json", "not valid JSON"),
            (
                #"{"keys": [{"id": "a", \#(good), "scopes": ["admin"]}, {"id": "b", "sha256": "xyz", "scopes": []}]}"#,
                "keys[1] (id 'b'): sha256"
            ),
            (#"{"keys": [{"id": "c", \#(good), "scopes": ["ledger:delete"]}]}"#, "keys[0] (id 'c'): unknown scope 'ledger:delete'"),
            (#"{"keys": [{"id": "bad.id", \#(good), "scopes": []}]}"#, "keys[0] (id 'bad.id'): id must be"),
            (#"{"keys": [{"id": "d", \#(good), "scopes": [], "rate_limit": {"per_second": 0}}]}"#, "keys[0] (id 'd'): rate_limit"),
            (#"{"keys": [{"id": "e", \#(good), "scopes": [], "key": "oops"}]}"#, "keys[0] (id 'e'): unknown field 'key'"),
        ]
        for (document, expected) in cases {
            let error = #expect(throws: AuthError.self) { _ = try APIKeyStore.parse(Data(document.utf8), source: "keys.json") }
            #expect(error?.message.contains(expected) == true, "\(error?.message ?? "no error") lacks \(expected)")
        }
        let duplicate = #"{"keys": [{"id": "a", \#(good), "scopes": []}, {"id": "a", \#(good), "scopes": []}]}"#
        #expect(throws: AuthError.self) { _ = try APIKeyStore(APIKeyStore.parse(Data(duplicate.utf8), source: "f")) }
    }

    @Test("keys load from the file and the environment together")
    func fileAndEnvironment() throws {
        let (first, firstEntry) = APIKeyStore.makeKey(id: "one", scopes: .admin)
        let (second, secondEntry) = APIKeyStore.makeKey(id: "two", scopes: [.read("ledger")!], rateLimit: .init(perSecond: 5, burst: 10))
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("keys-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data("{\"keys\": [\(firstEntry.json)]}".utf8).write(to: file)
        let store = try APIKeyStore.load(file: file.path, environment: ["RETAIN_API_KEYS": "{\"keys\": [\(secondEntry.json)]}"])
        #expect(store.lookup(first)?.id == "one")
        #expect(store.lookup(second)?.rateLimit == .init(perSecond: 5, burst: 10))
    }

    @Test("the token bucket allows the burst, then refuses with a wait, then refills at the rate")
    func rateLimiter() {
        let clock = TestClock(0)
        let limiter = RateLimiter(now: { UInt64(clock.value) })
        let limit = RateLimiter.Limit(perSecond: 10, burst: 3)
        for _ in 0..<3 { #expect(limiter.acquire("a", limit: limit) == nil) }
        let wait = limiter.acquire("a", limit: limit)
        #expect(wait != nil && wait! > .zero && wait! <= .milliseconds(100))
        #expect(limiter.acquire("b", limit: limit) == nil, "another caller has its own bucket")
        clock.value = 100_000_000  // 100 ms: one call's worth
        #expect(limiter.acquire("a", limit: limit) == nil)
        #expect(limiter.acquire("a", limit: limit) != nil)
    }

    @Test("the gateway authenticator: unknown key, missing key, and the rate limit as RESOURCE_EXHAUSTED")
    func authenticator() throws {
        let (key, entry) = APIKeyStore.makeKey(id: "ops", scopes: [.read("profile")!], rateLimit: .init(perSecond: 1, burst: 2))
        let authenticator = APIKeyAuthenticator(keys: try APIKeyStore([entry]), tokens: nil)
        let caller = try authenticator.authenticate("ApiKey " + key)
        #expect(caller.id == "ops")
        expectCode(.unauthenticated) { _ = try authenticator.authenticate("ApiKey rk_wrong") }
        expectCode(.unauthenticated) { _ = try authenticator.authenticate("") }
        try authenticator.admit(caller, method: "m")
        try authenticator.admit(caller, method: "m")
        let message = expectCode(.resourceExhausted) { try authenticator.admit(caller, method: "m") }
        #expect(message.contains("retry after"))
    }
}
