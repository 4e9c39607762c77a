import Foundation
import RetainAuth
import RetainProto
import RetainWire
import Synchronization
import Testing
import RetainClock

/// Secrets and API keys replaced while the process runs.
@Suite("rotation")
struct RotationTests {
    let old = try! ServiceSecret(String(repeating: "o", count: 40))
    let new = try! ServiceSecret(String(repeating: "n", count: 40))

    final class Clock: Sendable {
        let now = Mutex<Int64>(1_800_000_000_000)
        func advance(_ ms: Int64) { now.withLock { $0 += ms } }
    }

    func token(_ secret: ServiceSecret, expires: Int64) -> String {
        "Bearer " + ServiceToken(issuer: "gateway", subject: "ops", scopes: [.read("echo")!], expiresAtMs: expires).signed(with: secret)
    }

    @Test("after a rotation, tokens of the previous secret are accepted for the grace period only; new ones at once")
    func secretGrace() throws {
        let clock = Clock()
        var configuration = TokenVerifier.Configuration()
        configuration.now = { clock.now.withLock { $0 } }
        let verifier = TokenVerifier(secret: old, configuration: configuration)
        let start = clock.now.withLock { $0 }
        let before = token(old, expires: start + 300_000)
        _ = try verifier.authenticate(before)
        #expect(throws: RPCError.self) { _ = try verifier.authenticate(token(new, expires: start + 300_000)) }

        verifier.rotate(to: new, graceMs: 60_000)
        #expect(try verifier.authenticate(token(new, expires: start + 300_000)).id == "ops")
        let during = try verifier.authenticate(before)
        #expect(
            during.expiresAtMs + ServiceToken.clockSkewMs == start + 60_000,
            "a previous-secret caller is good until the grace ends, not the token's expiry")
        clock.advance(61_000)
        #expect(throws: RPCError.self) { _ = try verifier.authenticate(before) }
        #expect(try verifier.authenticate(token(new, expires: start + 300_000)).id == "ops")
    }

    @Test("a minter signs with the new secret after its rotation")
    func minterRotates() throws {
        let minter = TokenMinter(secret: old, configuration: .init(issuer: "gateway"))
        let first = minter.authorization(scopes: [.read("echo")!])
        minter.rotate(to: new)
        let second = minter.authorization(scopes: [.read("echo")!])
        #expect(first != second)
        _ = try ServiceToken.verify(String(second.dropFirst(7)), secret: new, nowMs: WallClock.nowMs())
        #expect(throws: TokenError.self) { _ = try ServiceToken.verify(String(second.dropFirst(7)), secret: old, nowMs: WallClock.nowMs()) }
    }

    @Test("replaced API keys: a removed key is refused, an added one accepted, callers re-verified within 30 s")
    func apiKeysReplaced() throws {
        // sha256("abc") and sha256("xyz").
        let abc =
            #"{"keys": [{"id": "k", "sha256": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "scopes": ["admin"]}]}"#
        let xyz =
            #"{"keys": [{"id": "x", "sha256": "3608bca1e44ea6c4d268eb6db02260269892c0b42b86bbf1e77a6fa16c3c9282", "scopes": ["admin"]}]}"#
        let authenticator = APIKeyAuthenticator(keys: try APIKeyStore(APIKeyStore.parse(Data(abc.utf8), source: "a")), tokens: nil)
        let caller = try authenticator.authenticate("ApiKey abc")
        #expect(caller.id == "k")
        #expect(caller.expiresAtMs <= WallClock.nowMs() + APIKeyAuthenticator.reverifyAfterMs)
        authenticator.replaceKeys(try APIKeyStore(APIKeyStore.parse(Data(xyz.utf8), source: "b")))
        #expect(throws: RPCError.self) { _ = try authenticator.authenticate("ApiKey abc") }
        #expect(try authenticator.authenticate("ApiKey xyz").id == "x")
    }
}
