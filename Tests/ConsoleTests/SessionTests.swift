import ConsoleCore
import RetainAuth
import Synchronization
import Testing

/// Sessions hold operators' API keys in the console's memory only; the browser holds a token.
@Suite struct SessionTests {
    final class Clock: Sendable {
        let now = Mutex<Int64>(1_000_000)
        func advance(_ ms: Int64) { now.withLock { $0 += ms } }
    }

    func store(_ clock: Clock, capacity: Int = 10) -> SessionStore {
        var configuration = SessionStore.Configuration()
        configuration.idleTimeoutMs = 60_000
        configuration.maximumAgeMs = 300_000
        configuration.capacity = capacity
        return SessionStore(configuration: configuration, nowMs: { clock.now.withLock { $0 } })
    }

    @Test func aSessionIsFoundByItsTokenAndCarriesTheKeysScopes() throws {
        let clock = Clock()
        let sessions = store(clock)
        let scopes = try ScopeSet(names: ["feedback:read", "profile:read"])
        let session = sessions.create(apiKey: "rk_secret", keyID: "desk", scopes: scopes, language: .zh)
        #expect(session.token.count == 43)
        #expect(session.formToken.count == 43)
        #expect(session.token != session.formToken)
        #expect(!session.token.contains("rk_secret"))
        let found = try #require(sessions.session(session.token))
        #expect(found.authorization == "ApiKey rk_secret")
        #expect(found.permissions.readsFeedback)
        #expect(!found.permissions.writesFeedback)
        #expect(!found.permissions.resolvesFeedback)
        #expect(sessions.session("not-a-token") == nil)
        #expect(sessions.session(nil) == nil)
    }

    @Test func anIdleSessionEndsAndUseKeepsItAlive() {
        let clock = Clock()
        let sessions = store(clock)
        let session = sessions.create(apiKey: "k", keyID: "k", scopes: .admin, language: .en)
        clock.advance(50_000)
        #expect(sessions.session(session.token) != nil)
        clock.advance(50_000)
        #expect(sessions.session(session.token) != nil)
        clock.advance(60_001)
        #expect(sessions.session(session.token) == nil)
        #expect(sessions.count == 0)
    }

    @Test func aSessionEndsAtItsMaximumAgeHoweverBusy() {
        let clock = Clock()
        let sessions = store(clock)
        let session = sessions.create(apiKey: "k", keyID: "k", scopes: .admin, language: .en)
        for _ in 0..<7 {
            clock.advance(50_000)
            _ = sessions.session(session.token)
        }
        #expect(sessions.session(session.token) == nil)
    }

    @Test func signOutAndLanguageChangeApplyToTheSession() {
        let clock = Clock()
        let sessions = store(clock)
        let session = sessions.create(apiKey: "k", keyID: "k", scopes: .admin, language: .en)
        sessions.setLanguage(.zh, token: session.token)
        #expect(sessions.session(session.token)?.language == .zh)
        sessions.remove(session.token)
        #expect(sessions.session(session.token) == nil)
    }

    @Test func aFullStoreDropsTheSessionSeenLongestAgo() {
        let clock = Clock()
        let sessions = store(clock, capacity: 2)
        let first = sessions.create(apiKey: "a", keyID: "a", scopes: .admin, language: .en)
        clock.advance(10)
        let second = sessions.create(apiKey: "b", keyID: "b", scopes: .admin, language: .en)
        clock.advance(10)
        _ = sessions.session(first.token)
        clock.advance(10)
        let third = sessions.create(apiKey: "c", keyID: "c", scopes: .admin, language: .en)
        #expect(sessions.session(first.token) != nil)
        #expect(sessions.session(second.token) == nil)
        #expect(sessions.session(third.token) != nil)
    }

    @Test func cookiesAreParsedAndSetHttpOnlyAndStrict() {
        let cookies = Cookies.parse("a=1; retain_console_session=\"tok\"; a=2;bad; retain_console_lang=zh")
        #expect(cookies["a"] == "1")
        #expect(cookies[Cookies.session] == "tok")
        #expect(cookies[Cookies.language] == "zh")
        #expect(Cookies.set("s", "v", maxAgeSeconds: nil, secure: false) == "s=v; Path=/; HttpOnly; SameSite=Strict")
        #expect(Cookies.set("s", "", maxAgeSeconds: 0, secure: true) == "s=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0; Secure")
    }

    @Test func resolvingNeedsFeedbackAndGatewayWrite() throws {
        #expect(ConsolePermissions(scopes: .admin).resolvesFeedback)
        #expect(!ConsolePermissions(scopes: try ScopeSet(names: ["feedback:write"])).resolvesFeedback)
        #expect(ConsolePermissions(scopes: try ScopeSet(names: ["feedback:write", "gateway:write"])).resolvesFeedback)
    }
}
