import Crypto

/// A short-lived credential that services accept, signed with the shared ``ServiceSecret``.
///
/// The wire form (sent as `authorization: "Bearer <token>"`) is ASCII, six fields joined by `.`:
///
/// ```
/// v1.<issuer>.<subject>.<scopes>.<expires>.<mac>
///    |        |         |        |         +- base64url, no padding (43 chars), of
///    |        |         |        |            HMAC-SHA256(secret, every byte before the last ".")
///    |        |         |        +- expiry, Unix milliseconds, decimal digits
///    |        |         +- scope names joined by "," (may be empty), e.g. profile:read,admin
///    |        +- who the call is for: an API key id or a service name, [A-Za-z0-9_-]{1,64}
///    +- who minted it (gateway, an operator, a service), [A-Za-z0-9_-]{1,64}
/// ```
///
/// Example: `v1.gateway.ops.profile:read.1767225600000.<43 chars>`.
public struct ServiceToken: Sendable, Hashable {
    /// Who minted it.
    public var issuer: String
    /// Who the call is for.
    public var subject: String
    /// What it allows.
    public var scopes: ScopeSet
    /// When it expires, Unix ms.
    public var expiresAtMs: Int64

    /// Default lifetime of a minted token: 5 minutes.
    public static let defaultLifetimeMs: Int64 = 5 * 60 * 1000
    /// How late a token is still accepted, for clocks that disagree: 30 s.
    public static let clockSkewMs: Int64 = 30_000
    /// Longest lifetime a verifier accepts (operators' tokens): 24 hours.
    public static let maximumLifetimeMs: Int64 = 24 * 3600 * 1000

    public init(issuer: String, subject: String, scopes: ScopeSet, expiresAtMs: Int64) {
        self.issuer = issuer
        self.subject = subject
        self.scopes = scopes
        self.expiresAtMs = expiresAtMs
    }

    /// Whether `name` may be an issuer or a subject: 1 to 64 of `A-Z a-z 0-9 _ -`.
    public static func isValidName(_ name: some StringProtocol) -> Bool {
        (1...64).contains(name.utf8.count)
            && name.utf8.allSatisfy { byte in
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                    UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"):
                    true
                default: false
                }
            }
    }

    /// The signed wire form (without `Bearer `).
    public func signed(with secret: ServiceSecret) -> String {
        precondition(Self.isValidName(issuer) && Self.isValidName(subject), "token names must match [A-Za-z0-9_-]{1,64}")
        let body = "v1.\(issuer).\(subject).\(scopes).\(expiresAtMs)"
        let mac = HMAC<SHA256>.authenticationCode(for: Array(body.utf8), using: secret.key)
        return body + "." + Base64URL.encode(mac)
    }

    /// Verifies a token's form, signature (in constant time) and expiry; throws
    /// ``TokenError`` saying what is wrong, without secret material.
    public static func verify(_ token: String, secret: ServiceSecret, nowMs: Int64) throws(TokenError) -> ServiceToken {
        let utf8 = token.utf8
        guard utf8.count <= 1024, let lastDot = utf8.lastIndex(of: UInt8(ascii: ".")) else { throw .malformed("not a v1 token") }
        let fields = token.split(separator: ".", omittingEmptySubsequences: false)
        guard fields.count == 6, fields[0] == "v1" else { throw .malformed("expected 6 fields separated by '.' starting with v1") }
        let body = token.utf8[..<lastDot]
        let expected = Base64URL.encode(HMAC<SHA256>.authenticationCode(for: Array(body), using: secret.key))
        guard Base64URL.constantTimeEqual(Array(fields[5].utf8), Array(expected.utf8)) else { throw .badSignature }
        guard isValidName(fields[1]), isValidName(fields[2]) else {
            throw .malformed("issuer or subject has characters outside [A-Za-z0-9_-]")
        }
        guard !fields[4].isEmpty, fields[4].utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let expires = Int64(fields[4]) else {
            throw .malformed("expiry is not decimal Unix milliseconds")
        }
        let scopes: ScopeSet
        do {
            scopes = try ScopeSet(parsing: fields[3])
        } catch {
            throw .malformed(error.description)
        }
        guard nowMs <= expires + clockSkewMs else { throw .expired(agoMs: nowMs - expires) }
        guard expires - nowMs <= maximumLifetimeMs + clockSkewMs else { throw .malformed("expiry more than 24 hours ahead") }
        return ServiceToken(issuer: String(fields[1]), subject: String(fields[2]), scopes: scopes, expiresAtMs: expires)
    }
}

/// Why a service token was refused.
public enum TokenError: Error, Hashable, Sendable, CustomStringConvertible {
    case malformed(String)
    case badSignature
    case expired(agoMs: Int64)

    public var description: String {
        switch self {
        case .malformed(let why): "malformed service token: \(why)"
        case .badSignature: "invalid service token: signature does not match (wrong secret or altered token)"
        case .expired(let ago): "service token expired \(ago / 1000) s ago"
        }
    }
}
