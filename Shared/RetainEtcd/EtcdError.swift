/// Why a call to etcd failed.
///
/// The kinds say what a caller can do next: `.unavailable` means try again later (perhaps the
/// outcome of a write is unknown, see `message`), `.server` is etcd's own refusal (such as a
/// lease that no longer exists) and will not change by retrying, `.protocolError` is an answer
/// this client could not read.
public struct EtcdError: Error, CustomStringConvertible, Sendable {
    /// What went wrong, in the terms a caller acts on.
    public enum Kind: Sendable, Equatable {
        /// No endpoint answered in time, or the connection dropped before an answer.
        case unavailable
        /// etcd answered with an error: its gRPC status `code` and its `message`.
        case server(code: Int, message: String)
        /// The answer was not what the etcd v3 JSON gateway sends.
        case protocolError
    }

    /// The gRPC status code etcd uses for "requested lease not found" and other missing things.
    public static let notFoundCode = 5

    /// What went wrong.
    public var kind: Kind
    /// A sentence for logs.
    public var message: String
    /// The lower-level error, if any.
    public var cause: (any Error & Sendable)?

    /// An error of `kind` explained by `message`.
    public init(_ kind: Kind, _ message: String, cause: (any Error & Sendable)? = nil) {
        self.kind = kind
        self.message = message
        self.cause = cause
    }

    /// True when etcd said the lease does not exist (expired or revoked).
    public var isLeaseNotFound: Bool {
        if case .server(let code, let message) = kind { return code == Self.notFoundCode && message.contains("lease not found") }
        return false
    }

    public var description: String {
        let kind =
            switch self.kind {
            case .unavailable: "unavailable"
            case .server(let code, _): "server error \(code)"
            case .protocolError: "protocol error"
            }
        if let cause { return "etcd \(kind): \(message) (\(cause))" }
        return "etcd \(kind): \(message)"
    }
}
