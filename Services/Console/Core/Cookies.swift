/// The console's two cookies: the session token and the language of signed-out pages.
public enum Cookies {
    /// The session token's cookie.
    public static let session = "retain_console_session"
    /// The language cookie (kept after sign-out so the sign-in page keeps the operator's choice).
    public static let language = "retain_console_lang"

    /// The cookies of a `Cookie` header (RFC 6265 section 5.4): `name=value` pairs separated
    /// by `;`. The first of a repeated name wins.
    public static func parse(_ header: String?) -> [String: String] {
        guard let header else { return [:] }
        var cookies: [String: String] = [:]
        for pair in header.split(separator: ";") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2 else { continue }
            let name = parts[0].trimmingWhitespace()
            var value = parts[1].trimmingWhitespace()
            if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") { value = String(value.dropFirst().dropLast()) }
            if !name.isEmpty, cookies[name] == nil { cookies[name] = value }
        }
        return cookies
    }

    /// A `Set-Cookie` value for the whole console: `HttpOnly` (no script reads it; the console
    /// has none anyway) and `SameSite=Strict` (no other site's form or link sends it); `Secure`
    /// when the console is served over HTTPS. `maxAgeSeconds` 0 deletes the cookie.
    public static func set(_ name: String, _ value: String, maxAgeSeconds: Int?, secure: Bool) -> String {
        var cookie = "\(name)=\(value); Path=/; HttpOnly; SameSite=Strict"
        if let maxAgeSeconds { cookie += "; Max-Age=\(maxAgeSeconds)" }
        if secure { cookie += "; Secure" }
        return cookie
    }
}
