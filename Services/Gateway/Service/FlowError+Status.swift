package import GatewayCore
import RetainProto
package import RetainWire

/// The one table between the flows' words and the wire's status codes: a ``FlowError`` becomes
/// its status, a backend's status becomes the ``BackendFailure`` a flow reasons about, and a
/// backend failure no flow handled goes back to the caller as the backend answered it.
extension FlowError {
    /// The status this error answers with; messages are the ones callers have always seen.
    package var status: RPCError {
        switch self {
        case .invalid(let field, let reason): RPCError.invalidArgument(field: field, reason)
        case .paymentRefused(_, let result): RPCError(.failedPrecondition, description, details: ["result": result.description])
        case .backendInconsistent(_, let result):
            RPCError(.internal, description, details: result.map { ["result": $0.description] } ?? [:])
        }
    }

    /// Runs `body`, turning the flows' errors into statuses; other errors pass.
    package static func mapped<R>(_ body: () throws -> R) throws -> R {
        do {
            return try body()
        } catch let error as FlowError {
            throw error.status
        } catch let failure as BackendFailure {
            throw failure.underlying
        }
    }

    /// Runs a flow, turning its errors into statuses; other errors pass.
    package static func mapped<R>(_ body: () async throws -> R) async throws -> R {
        do {
            return try await body()
        } catch let error as FlowError {
            throw error.status
        } catch let failure as BackendFailure {
            throw failure.underlying
        }
    }
}

extension BackendFailure {
    /// A backend's status as a flow sees it.
    package init(_ status: RPCError) {
        let reason: Reason =
            switch status.code {
            case .notFound: .notFound
            case .alreadyExists: .exists
            case .failedPrecondition: .refused
            case .invalidArgument: .invalid
            default: .other
            }
        self.init(reason: reason, message: status.message, details: status.details, underlying: status)
    }
}
