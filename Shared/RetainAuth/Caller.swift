/// Who made a call, once its credential has been verified.
public struct Caller: Sendable, Hashable {
    /// The caller's name: the API key's id, or the token's subject.
    public var id: String
    /// Who vouches for it: `api-key` for an API key, else the issuer of the service token.
    public var issuer: String
    /// What it may do.
    public var scopes: ScopeSet
    /// When the credential stops being valid, Unix ms; `Int64.max` for API keys.
    public var expiresAtMs: Int64

    public init(id: String, issuer: String, scopes: ScopeSet, expiresAtMs: Int64 = .max) {
        self.id = id
        self.issuer = issuer
        self.scopes = scopes
        self.expiresAtMs = expiresAtMs
    }
}
