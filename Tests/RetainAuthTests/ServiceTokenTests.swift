import Foundation
import RetainAuth
import RetainProto
import RetainWire
import Testing

/// Service tokens: minting, verifying, and every way a token can be refused.
@Suite("service tokens")
struct ServiceTokenTests {
    let secret = try! ServiceSecret(String(repeating: "s", count: 40))
    let now: Int64 = 1_800_000_000_000

    func token(scopes: ScopeSet = [.read("profile")!], expires: Int64? = nil) -> String {
        ServiceToken(issuer: "gateway", subject: "ops", scopes: scopes, expiresAtMs: expires ?? now + 60_000).signed(with: secret)
    }

    @Test("a minted token verifies and carries issuer, subject, scopes and expiry")
    func roundTrip() throws {
        let text = token(scopes: [.read("profile")!, .write("ledger")!])
        #expect(text.hasPrefix("v1.gateway.ops.profile:read,ledger:write.\(now + 60_000)."))
        let verified = try ServiceToken.verify(text, secret: secret, nowMs: now)
        #expect(
            verified
                == ServiceToken(
                    issuer: "gateway", subject: "ops", scopes: [.read("profile")!, .write("ledger")!],
                    expiresAtMs: now + 60_000))
        #expect(text.split(separator: ".").last?.count == 43)
    }

    @Test("the MAC is HMAC-SHA256 over the text before the last dot, base64url without padding")
    func documentedFormat() throws {
        // Computed independently with Python: hmac.new(b"s"*40, b"v1.gateway.ops.profile:read.1800000060000", sha256)
        let text = token()
        #expect(text == "v1.gateway.ops.profile:read.1800000060000.\(Self.expectedMAC)")
    }
    static let expectedMAC = "8a2EDryuOTt1rtqJHGKJvtDDIGNOPMEB4lpj-CK_ycs"

    @Test("an expired token is refused once past the clock-skew allowance, and accepted within it")
    func expiry() throws {
        let text = token(expires: now)
        #expect(throws: TokenError.expired(agoMs: ServiceToken.clockSkewMs + 1)) {
            _ = try ServiceToken.verify(text, secret: secret, nowMs: now + ServiceToken.clockSkewMs + 1)
        }
        #expect(try ServiceToken.verify(text, secret: secret, nowMs: now + ServiceToken.clockSkewMs).subject == "ops")
    }

    @Test("a tampered token is refused: scopes, subject or expiry changed")
    func tampered() throws {
        let text = token()
        for altered in [
            text.replacingOccurrences(of: "profile:read", with: "admin"),
            text.replacingOccurrences(of: ".ops.", with: ".root."),
            text.replacingOccurrences(of: ".1800000060000.", with: ".1800000090000."),
        ] {
            #expect(throws: TokenError.badSignature) { _ = try ServiceToken.verify(altered, secret: secret, nowMs: now) }
        }
    }

    @Test("a token signed with another secret is refused")
    func wrongSecret() throws {
        let other = try ServiceSecret(String(repeating: "t", count: 40))
        #expect(throws: TokenError.badSignature) { _ = try ServiceToken.verify(token(), secret: other, nowMs: now) }
    }

    @Test("malformed tokens are refused with a reason")
    func malformed() throws {
        for text in ["", "Bearer x", "v2.a.b.c.1.x", "v1.a.b.c.1", "v1.a.b.c.d.e.f", String(repeating: "v1.", count: 500)] {
            #expect(throws: TokenError.self) { _ = try ServiceToken.verify(text, secret: secret, nowMs: now) }
        }
    }

    @Test("a secret shorter than 32 bytes is refused, and its description shows no secret")
    func secretRules() throws {
        #expect(throws: AuthError.self) { _ = try ServiceSecret("short") }
        let secret = try ServiceSecret(ServiceSecret.generateText())
        #expect(secret.description == "ServiceSecret(64 bytes)")
    }

    @Test("the verifier caches verified tokens, refuses expired cached ones, and stays bounded")
    func verifierCache() throws {
        let clock = TestClock(now)
        var configuration = TokenVerifier.Configuration()
        configuration.cacheCapacity = 8
        configuration.now = { clock.value }
        let verifier = TokenVerifier(secret: secret, configuration: configuration)
        let text = token()
        #expect(try verifier.authenticate("Bearer " + text).id == "ops")
        #expect(verifier.cachedCount == 1)
        clock.value = now + 60_000 + ServiceToken.clockSkewMs + 1
        expectCode(.unauthenticated) { _ = try verifier.authenticate("Bearer " + text) }
        clock.value = now
        for index in 0..<20 {
            _ = try verifier.authenticate("Bearer " + token(expires: now + 1000 + Int64(index)))
        }
        #expect(verifier.cachedCount <= 8)
        expectCode(.unauthenticated) { _ = try verifier.authenticate("") }
        expectCode(.unauthenticated) { _ = try verifier.authenticate("ApiKey abc") }
    }

    @Test("the minter reuses a token until it nears expiry")
    func minterCache() throws {
        let clock = TestClock(now)
        var configuration = TokenMinter.Configuration(issuer: "gateway")
        configuration.now = { clock.value }
        let minter = TokenMinter(secret: secret, configuration: configuration)
        let first = minter.authorization(subject: "ops", scopes: .admin)
        #expect(minter.authorization(subject: "ops", scopes: .admin) == first)
        clock.value = now + ServiceToken.defaultLifetimeMs - 30_000
        let renewed = minter.authorization(subject: "ops", scopes: .admin)
        #expect(renewed != first)
        #expect(try ServiceToken.verify(String(renewed.dropFirst(7)), secret: secret, nowMs: clock.value).scopes == .admin)
        // Open methods get a token with no scope: it admits the connection at a server that
        // closes connections presenting no credential.
        let health = minter.authorization(forMethod: "retain.v1.Health/Check")
        #expect(try ServiceToken.verify(String(health.dropFirst(7)), secret: secret, nowMs: clock.value).scopes == [])
        let ledger = minter.authorization(forMethod: "retain.v1.Ledger/GetBalance")
        #expect(try ServiceToken.verify(String(ledger.dropFirst(7)), secret: secret, nowMs: clock.value).scopes == .read("ledger")!)
    }
}
