public import RetainAuth

/// One signed-in operator: the API key the console calls the gateway with on their behalf, what
/// the key may do, and their interface language.
///
/// The key lives only here, in the console's memory: the browser holds an opaque session token
/// in an `HttpOnly` cookie, never the key, and no URL carries either.
public struct ConsoleSession: Sendable, Hashable {
    /// The session token (the cookie's value): 32 random bytes, base64url.
    public let token: String
    /// The API key, sent to the gateway as `ApiKey <key>`.
    public let apiKey: String
    /// The key's id in the key file (shown; logs name it instead of the key).
    public let keyID: String
    /// The key's scopes, from the key file the gateway checks them against.
    public let scopes: ScopeSet
    /// A second random token that every form carries, so that another site cannot post one
    /// (the cookie is `SameSite=Strict` too; this holds where that is not honoured).
    public let formToken: String
    /// The interface language.
    public var language: Language
    /// When the session started, Unix ms.
    public let createdAtMs: Int64
    /// The last request in it, Unix ms; it ends after ``SessionStore/Configuration/idleTimeoutMs``.
    public var lastSeenMs: Int64

    /// The `authorization` value of calls made for this session.
    public var authorization: String { "ApiKey \(apiKey)" }

    /// What the key allows in the console.
    public var permissions: ConsolePermissions { ConsolePermissions(scopes: scopes) }
}
