public import RetainAuth

/// Supplies the credential of a client's calls (``RPCClient/Configuration/credentials``).
public protocol CallCredentials: Sendable {
    /// The `authorization` to send with a call of `method` ("" for none).
    func authorization(forMethod method: String) -> String
}

/// A service's own token, with just the scope each method needs, reused until near expiry.
extension TokenMinter: CallCredentials {}

/// The same credential for every call (an operator's API key or token).
public struct StaticCredentials: CallCredentials {
    /// The `authorization` sent.
    public let authorization: String
    public init(_ authorization: String) { self.authorization = authorization }
    public func authorization(forMethod method: String) -> String { authorization }
}
