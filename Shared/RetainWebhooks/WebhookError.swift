/// Why the webhooks domain refuses a request or a log entry, in its own words. The service layer
/// alone turns each case into a status code (`WebhookError+Status.swift` in
/// RetainWebhookDelivery).
public enum WebhookError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A request field does not fit the rules.
    case invalid(field: String, reason: String)
    /// The id names a different subscription already.
    case exists(String)
    /// The state refuses the change (a dead letter of an inactive subscription).
    case refused(String)
    /// A log entry this code could not have written.
    case malformedEntry(String)

    public var description: String {
        switch self {
        case .invalid(let field, let reason): "\(field): \(reason)"
        case .exists(let message), .refused(let message), .malformedEntry(let message): message
        }
    }
}
