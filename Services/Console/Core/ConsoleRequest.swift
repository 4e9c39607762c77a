/// An HTTP request as the console's pages see it, without the transport: method, path, query,
/// the headers it reads, and a form body.
public struct ConsoleRequest: Sendable {
    /// `GET`, `POST`, ...
    public var method: String
    /// The path, without the query.
    public var path: String
    /// The query's fields.
    public var query: FormData
    /// Header fields by lower-case name (the first of a repeated name).
    public var headers: [String: String]
    /// The body, when it is a form (`application/x-www-form-urlencoded`); empty otherwise.
    public var form: FormData

    /// Splits `uri` into path and query.
    public init(method: String, uri: String, headers: [(String, String)], body: String) {
        self.method = method
        let parts = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        self.path = parts.isEmpty || parts[0].isEmpty ? "/" : String(parts[0])
        self.query = FormData(parts.count > 1 ? parts[1] : "")
        var fields: [String: String] = [:]
        for (name, value) in headers where fields[name.lowercased()] == nil { fields[name.lowercased()] = value }
        self.headers = fields
        let type = fields["content-type"]?.lowercased() ?? ""
        self.form = type.hasPrefix("application/x-www-form-urlencoded") ? FormData(body) : FormData("")
    }

    /// The request's cookies.
    public var cookies: [String: String] { Cookies.parse(headers["cookie"]) }
}

/// An HTTP response: status, headers and body.
public struct ConsoleResponse: Sendable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: [UInt8]

    public init(status: Int, headers: [(String, String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// An HTML page. Pages are never cached (they show live data and carry the form token), and
    /// the content security policy forbids scripts and any fetch from elsewhere.
    public static func html(_ page: String, status: Int = 200, headers: [(String, String)] = []) -> ConsoleResponse {
        ConsoleResponse(
            status: status,
            headers: [
                ("content-type", "text/html; charset=utf-8"), ("cache-control", "no-store"),
                ("content-security-policy", "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'"),
                ("x-content-type-options", "nosniff"), ("referrer-policy", "same-origin"), ("x-frame-options", "DENY"),
            ] + headers, body: Array(page.utf8))
    }

    /// A 303 to `location` (after a form post, so a reload does not post again).
    public static func redirect(_ location: String, headers: [(String, String)] = []) -> ConsoleResponse {
        ConsoleResponse(status: 303, headers: [("location", location), ("cache-control", "no-store")] + headers)
    }

    /// Plain text.
    public static func text(_ text: String, status: Int) -> ConsoleResponse {
        ConsoleResponse(status: status, headers: [("content-type", "text/plain; charset=utf-8")], body: Array(text.utf8))
    }
}
