public import ConsoleCore
public import Logging
public import RetainAuth
import RetainProto
public import RetainRPC
import RetainWire

/// The console's routes: sign-in and sign-out, the language switch, the five pages, and the
/// feedback desk's actions. Transport-free: it takes a ``ConsoleRequest`` and answers a
/// ``ConsoleResponse``; ``ConsoleServer`` carries them over HTTP.
///
/// | route                      | what                                                        |
/// |----------------------------|-------------------------------------------------------------|
/// | `GET /signin`, `POST /signin` | the form; a key the key file knows starts a session       |
/// | `POST /signout`            | ends the session                                            |
/// | `POST /lang`               | switches the language (session and cookie)                  |
/// | `GET /overview`            | `days` (7 to 90, default 42), `channel` (heatmap)           |
/// | `GET /funnel`              | `weeks` (1 to 26, default 8): the funnel by channel and cohort |
/// | `GET /user?id=`            | one user                                                    |
/// | `GET /feedback`            | the desk                                                    |
/// | `POST /feedback/triage`, `/feedback/reply`, `/feedback/resolve` | the desk's actions     |
/// | `GET /levels` (`as_of=YYYY-MM-DD`) | users per level, now or at the end of a day         |
/// | `GET /ledger` (`verify=1` recomputes the chain, `period=day|week|month`) | the ledger   |
/// | `GET /campaigns`           | recall campaigns and their results                          |
/// | `GET /segments`            | `name`, `as_of=YYYY-MM-DD`: saved segments, one's count and members |
/// | `GET /rules`               | `service`, `from`, `to`: a rule set's history and a diff    |
/// | `POST /rules/rollback`     | admin only: `service`, `to_version`, `reason`               |
public final class ConsoleApp: Sendable {
    /// Behaviour that deployments choose.
    public struct Configuration: Sendable {
        /// Mark cookies `Secure` (when a TLS proxy serves the console). Default false.
        public var secureCookies = false
        /// The Overview's period when the URL names none, in days. Default 42 (six weeks).
        public var overviewDays = 42
        /// Deadline of each call to the gateway. Default 15 s.
        public var callTimeout: Duration = .seconds(15)

        public init() {}
    }

    let client: RPCClient
    private let sessions: SessionStore
    private let keys: @Sendable () throws -> APIKeyStore
    let nowMs: @Sendable () -> Int64
    private let configuration: Configuration
    private let logger: Logger

    /// - Parameters:
    ///   - client: a client of the gateway.
    ///   - keys: the API key file, read at each sign-in (so a rotated file needs no restart).
    ///   - nowMs: the clock.
    public init(
        client: RPCClient, sessions: SessionStore, keys: @escaping @Sendable () throws -> APIKeyStore,
        nowMs: @escaping @Sendable () -> Int64, configuration: Configuration = Configuration(), logger: Logger
    ) {
        self.client = client
        self.sessions = sessions
        self.keys = keys
        self.nowMs = nowMs
        self.configuration = configuration
        self.logger = logger
    }

    /// The pages a signed-in operator may open (and the language switch may return to).
    static let pages: Set<String> = [
        "/overview", "/funnel", "/user", "/feedback", "/levels", "/ledger", "/campaigns", "/segments", "/rules",
    ]

    /// Answers one request.
    public func respond(_ request: ConsoleRequest) async -> ConsoleResponse {
        let cookies = request.cookies
        let session = sessions.session(cookies[Cookies.session])
        let language =
            session?.language ?? cookies[Cookies.language].flatMap(Language.init(rawValue:))
            ?? Language(acceptLanguage: request.headers["accept-language"])
        switch (request.method, request.path) {
        case ("GET", "/"):
            return .redirect(session == nil ? "/signin" : "/overview")
        case ("GET", "/healthz"):
            return .text("ok\n", status: 200)
        case ("GET", "/signin"):
            if session != nil { return .redirect("/overview") }
            return .html(SignInPage.render(PageContext(language: language, session: nil, path: "/signin"), failed: false))
        case ("POST", "/signin"):
            return signIn(request, language: language)
        case ("POST", "/signout"):
            if let session, request.form["form_token"] == session.formToken { sessions.remove(session.token) }
            return .redirect(
                "/signin",
                headers: [("set-cookie", Cookies.set(Cookies.session, "", maxAgeSeconds: 0, secure: configuration.secureCookies))])
        case ("POST", "/lang"):
            return switchLanguage(request, session: session)
        default:
            break
        }
        guard let session else {
            return request.method == "GET" ? .redirect("/signin") : .text("sign in first\n", status: 401)
        }
        let reader = SuiteReader(client: client, session: session, timeout: configuration.callTimeout)
        let context = { (notice: (String, Bool)?) in
            PageContext(language: session.language, session: session, path: request.path, notice: notice)
        }
        switch (request.method, request.path) {
        case ("GET", "/overview"):
            let days = Int(request.query["days"] ?? "").map { min(90, max(7, $0)) } ?? configuration.overviewDays
            let page = await reader.overview(days: days, channel: request.query["channel"] ?? "", nowMs: nowMs())
            return .html(page.render(context(nil)))
        case ("GET", "/funnel"):
            let weeks = Int(request.query["weeks"] ?? "").map { min(26, max(1, $0)) } ?? 8
            return .html(await reader.funnel(weeks: weeks, nowMs: nowMs()).render(context(nil)))
        case ("GET", "/user"):
            guard let userID = request.query.trimmed("id") else {
                let text = Localizer(session.language)
                return .html(Layout.page(context(nil), title: text[.navUser], body: UserPage.lookupForm(text, userID: "")))
            }
            return .html(await reader.user(userID, nowMs: nowMs()).render(context(nil)))
        case ("GET", "/feedback"):
            return .html(await reader.feedbackDesk(nowMs: nowMs()).render(context(deskNotice(request.query, session.language))))
        case ("POST", "/feedback/triage"), ("POST", "/feedback/reply"), ("POST", "/feedback/resolve"):
            return await deskAction(request, session: session, reader: reader)
        case ("GET", "/levels"):
            let asOf = Format.parseDate(request.query["as_of"] ?? "").map { $0 + SuiteReader.dayMs }
            return .html(await reader.levels(asOfMs: asOf).render(context(nil)))
        case ("GET", "/ledger"):
            let period: Retain_V1_SummaryPeriod =
                switch request.query["period"] {
                case "week": .week
                case "month": .month
                default: .day
                }
            return .html(await reader.ledger(verify: request.query["verify"] == "1", period: period, nowMs: nowMs()).render(context(nil)))
        case ("GET", "/campaigns"):
            return .html(await reader.campaigns().render(context(nil)))
        case ("GET", "/segments"):
            let asOf = Format.parseDate(request.query["as_of"] ?? "").map { $0 + SuiteReader.dayMs }
            return .html(await reader.segments(name: request.query.trimmed("name"), asOfMs: asOf).render(context(nil)))
        case ("GET", "/rules"):
            let service = RulesPage.services.first { $0.service == request.query["service"] }?.service ?? "growth"
            let compare = UInt64(request.query["from"] ?? "").flatMap { from in UInt64(request.query["to"] ?? "").map { (from, $0) } }
            let text = Localizer(session.language)
            let notice = UInt64(request.query["rolled_back"] ?? "").map { ("\(text[.rolledBack]) \($0)", false) }
            return .html(await reader.rules(service: service, compare: compare, nowMs: nowMs()).render(context(notice)))
        case ("POST", "/rules/rollback"):
            return await rollback(request, session: session, reader: reader)
        default:
            let text = Localizer(session.language)
            return .html(Layout.page(context(nil), title: text[.notFound], body: ""), status: 404)
        }
    }

    /// Signs in with a key the key file knows; the key is never echoed back.
    private func signIn(_ request: ConsoleRequest, language: Language) -> ConsoleResponse {
        let failed = ConsoleResponse.html(
            SignInPage.render(PageContext(language: language, session: nil, path: "/signin"), failed: true), status: 401)
        guard let key = request.form.trimmed("api_key") else { return failed }
        let store: APIKeyStore
        do {
            store = try keys()
        } catch {
            logger.error("cannot read the API key file", metadata: ["error": "\(error)"])
            return .html(
                SignInPage.render(
                    PageContext(language: language, session: nil, path: "/signin", notice: ("\(error)", true)), failed: false),
                status: 503)
        }
        guard let entry = store.lookup(key) else {
            logger.notice("console sign-in refused: unknown key")
            return failed
        }
        let session = sessions.create(apiKey: key, keyID: entry.id, scopes: entry.scopes, language: language)
        logger.info("console sign-in", metadata: ["key_id": "\(entry.id)", "scopes": "\(entry.scopes)"])
        return .redirect(
            "/overview",
            headers: [("set-cookie", Cookies.set(Cookies.session, session.token, maxAgeSeconds: nil, secure: configuration.secureCookies))])
    }

    /// Switches the language of the session (if any) and of the cookie, then goes back.
    private func switchLanguage(_ request: ConsoleRequest, session: ConsoleSession?) -> ConsoleResponse {
        guard let language = request.form["lang"].flatMap(Language.init(rawValue:)) else { return .text("unknown language\n", status: 400) }
        if let session {
            guard request.form["form_token"] == session.formToken else { return .text("form expired\n", status: 403) }
            sessions.setLanguage(language, token: session.token)
        }
        // Only our own pages: a form cannot send the browser elsewhere.
        let back = request.form["back"].flatMap { Self.pages.contains($0) || $0 == "/signin" ? $0 : nil } ?? "/"
        return .redirect(
            back,
            headers: [
                (
                    "set-cookie",
                    Cookies.set(Cookies.language, language.rawValue, maxAgeSeconds: 365 * 86_400, secure: configuration.secureCookies)
                )
            ])
    }

    /// The notice after a desk action (from the redirect's query: codes, never free text).
    private func deskNotice(_ query: FormData, _ language: Language) -> (String, Bool)? {
        let text = Localizer(language)
        switch query["done"] {
        case "resolve":
            let paid = Int64(query["paid"] ?? "") ?? 0
            let item = query["item"] ?? ""
            return paid > 0
                ? ("\(text[.resolvedWithPayment]) \(paid) points (\(item))", false) : ("\(text[.resolvedNoPayment]) (\(item))", false)
        case "triage": return ("\(text[.triaged]) (\(query["item"] ?? ""))", false)
        case "reply": return ("\(text[.replied]) (\(query["item"] ?? ""))", false)
        default: return nil
        }
    }
}
