public import RetainProto

/// Why a flow refuses or stops, in its own words. The flows know nothing of status codes: the
/// Service layer alone turns each case into one, in one table (`FlowError+Status.swift` in
/// GatewayService). A backend's own refusal travels as ``BackendFailure`` instead.
public enum FlowError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A request field is malformed or missing.
    case invalid(field: String, reason: String)
    /// The ledger refused a reward the flow must pay (the budget cannot cover it); the steps
    /// before it stand and a retry pays it once the budget is raised.
    case paymentRefused(String, result: Retain_V1_TransferResultCode)
    /// A backend answered something that cannot be (a transfer it says exists but cannot find,
    /// no result, a refusal no flow expects).
    case backendInconsistent(String, result: Retain_V1_TransferResultCode? = nil)

    public var description: String {
        switch self {
        case .invalid(let field, let reason): "\(field): \(reason)"
        case .paymentRefused(let message, _), .backendInconsistent(let message, _): message
        }
    }
}
