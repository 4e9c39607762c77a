import ConsoleCore
import ConsoleService
import Foundation
import Logging
import RetainAuth
import RetainRPC
import Testing

/// Sign-in, sign-out and what a session may post, through the app's routes (no gateway runs:
/// these routes decide before calling it, and calls that are made fail as unreachable).
@Suite struct ConsoleAppSessionTests {
    let admin = APIKeyStore.makeKey(id: "ops", scopes: .admin)
    let reader = APIKeyStore.makeKey(id: "viewer", scopes: try! ScopeSet(names: ["feedback:read", "profile:read"]))

    func app() throws -> ConsoleApp {
        let store = try APIKeyStore([admin.entry, reader.entry])
        // Port 9 (discard) on loopback: nothing listens, so a call fails at once.
        let client = RPCClient(host: "127.0.0.1", port: 9)
        return ConsoleApp(
            client: client, sessions: SessionStore(nowMs: { 1_000 }), keys: { store }, nowMs: { 1_000 }, logger: Logger(label: "test"))
    }

    func post(_ path: String, _ body: String, cookie: String? = nil) -> ConsoleRequest {
        var headers = [("Content-Type", "application/x-www-form-urlencoded")]
        if let cookie { headers.append(("Cookie", cookie)) }
        return ConsoleRequest(method: "POST", uri: path, headers: headers, body: body)
    }

    func header(_ response: ConsoleResponse, _ name: String) -> String? {
        response.headers.first { $0.0.lowercased() == name }?.1
    }

    /// Signs in; returns the cookie header and the session's form token (read off a page).
    func signIn(_ app: ConsoleApp, key: String) async throws -> (cookie: String, formToken: String) {
        let response = await app.respond(post("/signin", "api_key=\(HTML.query(key))"))
        #expect(response.status == 303)
        #expect(header(response, "location") == "/overview")
        let setCookie = try #require(header(response, "set-cookie"))
        #expect(setCookie.contains("HttpOnly"))
        #expect(setCookie.contains("SameSite=Strict"))
        #expect(!setCookie.contains(key))
        let cookie = String(setCookie.split(separator: ";")[0])
        let page = await app.respond(ConsoleRequest(method: "GET", uri: "/user", headers: [("Cookie", cookie)], body: ""))
        let html = String(decoding: page.body, as: UTF8.self)
        let marker = "name=\"form_token\" value=\""
        let start = try #require(html.range(of: marker))
        let token = html[start.upperBound...].prefix { $0 != "\"" }
        return (cookie, String(token))
    }

    @Test func anUnknownKeyIsRefusedWithoutACookie() async throws {
        let app = try app()
        let response = await app.respond(post("/signin", "api_key=rk_nope"))
        #expect(response.status == 401)
        #expect(header(response, "set-cookie") == nil)
        #expect(!String(decoding: response.body, as: UTF8.self).contains("rk_nope"))
    }

    @Test func pagesNeedASessionAndTheKeyNeverAppearsInThem() async throws {
        let app = try app()
        let anonymous = await app.respond(ConsoleRequest(method: "GET", uri: "/overview", headers: [], body: ""))
        #expect(anonymous.status == 303)
        #expect(header(anonymous, "location") == "/signin")
        let (cookie, _) = try await signIn(app, key: admin.key)
        let page = await app.respond(ConsoleRequest(method: "GET", uri: "/levels", headers: [("Cookie", cookie)], body: ""))
        #expect(page.status == 200)
        let html = String(decoding: page.body, as: UTF8.self)
        #expect(html.contains("id=\"key-id\">ops<"))
        #expect(!html.contains(admin.key))
    }

    @Test func aReadOnlyKeyCannotResolveEvenByPostingTheForm() async throws {
        let app = try app()
        let (cookie, formToken) = try await signIn(app, key: reader.key)
        let response = await app.respond(
            post("/feedback/resolve", "item_id=fb_1&outcome=1&points=50&form_token=\(formToken)", cookie: cookie))
        #expect(response.status == 403)
        let html = String(decoding: response.body, as: UTF8.self)
        #expect(html.contains("feedback:write, gateway:write"))
        #expect(!html.contains("action=\"/feedback/resolve\""))
    }

    @Test func onlyAnAdminKeyMayRollARuleSetBack() async throws {
        let app = try app()
        let (cookie, formToken) = try await signIn(app, key: reader.key)
        let response = await app.respond(
            post("/rules/rollback", "service=growth&to_version=1&form_token=\(formToken)", cookie: cookie))
        #expect(response.status == 403)
        let html = String(decoding: response.body, as: UTF8.self)
        #expect(html.contains("Rolling back needs the admin scope.") && !html.contains("action=\"/rules/rollback\""))
        // An admin without the form token is refused too, before any call.
        let (adminCookie, _) = try await signIn(app, key: admin.key)
        let untokened = await app.respond(post("/rules/rollback", "service=growth&to_version=1", cookie: adminCookie))
        #expect(untokened.status == 403)
    }

    @Test func aPostWithoutTheFormTokenIsRefused() async throws {
        let app = try app()
        let (cookie, _) = try await signIn(app, key: admin.key)
        let response = await app.respond(post("/feedback/resolve", "item_id=fb_1&outcome=1&points=50", cookie: cookie))
        #expect(response.status == 403)
        let lang = await app.respond(post("/lang", "lang=zh&back=/overview", cookie: cookie))
        #expect(lang.status == 403)
    }

    @Test func theLanguageSwitchSticksToTheSessionAndReturnsOnlyToOwnPages() async throws {
        let app = try app()
        let (cookie, formToken) = try await signIn(app, key: admin.key)
        let switched = await app.respond(post("/lang", "lang=zh&back=//evil.example/&form_token=\(formToken)", cookie: cookie))
        #expect(switched.status == 303)
        #expect(header(switched, "location") == "/")
        #expect(header(switched, "set-cookie")?.hasPrefix("retain_console_lang=zh;") == true)
        let page = await app.respond(ConsoleRequest(method: "GET", uri: "/user", headers: [("Cookie", cookie)], body: ""))
        #expect(String(decoding: page.body, as: UTF8.self).contains("<html lang=\"zh-CN\">"))
    }

    @Test func signOutEndsTheSession() async throws {
        let app = try app()
        let (cookie, formToken) = try await signIn(app, key: admin.key)
        let out = await app.respond(post("/signout", "form_token=\(formToken)", cookie: cookie))
        #expect(out.status == 303)
        #expect(header(out, "set-cookie")?.contains("Max-Age=0") == true)
        let after = await app.respond(ConsoleRequest(method: "GET", uri: "/user", headers: [("Cookie", cookie)], body: ""))
        #expect(after.status == 303)
    }
}
