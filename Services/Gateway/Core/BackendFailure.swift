/// A backend's refusal of a flow's call, with what a flow needs to decide its next step (the
/// reason, the message and details). The transport's own error travels along untouched in
/// `underlying`, so that a refusal the flow does not handle reaches the caller exactly as the
/// backend answered it.
public struct BackendFailure: Error, Sendable, CustomStringConvertible {
    /// What the backend said, in the flows' words.
    public enum Reason: Sendable, Hashable {
        /// The entity the call names does not exist.
        case notFound
        /// The entity the call would create exists already (possibly with other terms).
        case exists
        /// The backend's state refuses the change (an illegal transition, a budget too small).
        case refused
        /// The request was malformed.
        case invalid
        /// Anything else: unavailable, timed out, internal.
        case other
    }

    /// What the backend said.
    public var reason: Reason
    /// The backend's message.
    public var message: String
    /// The backend's machine-readable details, for example `["result": "ACCOUNT_NOT_FOUND"]`.
    public var details: [String: String]
    /// The error as the transport reported it.
    public var underlying: any Error & Sendable

    public init(reason: Reason, message: String, details: [String: String] = [:], underlying: any Error & Sendable) {
        self.reason = reason
        self.message = message
        self.details = details
        self.underlying = underlying
    }

    public var description: String { "\(underlying)" }
}
