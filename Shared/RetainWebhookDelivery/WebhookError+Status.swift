package import RetainWebhooks
package import RetainWire

/// The one table from the webhooks domain's errors to the wire's status codes.
extension WebhookError {
    /// The status this error answers with.
    package var status: RPCError {
        switch self {
        case .invalid(let field, let reason): RPCError.invalidArgument(field: field, reason)
        case .exists: RPCError(.alreadyExists, description)
        case .refused: RPCError(.failedPrecondition, description)
        case .malformedEntry: RPCError(.invalidArgument, description)
        }
    }

    /// Runs `body`, turning a domain error it throws into its status; other errors pass.
    package static func mapped<R>(_ body: () throws -> R) throws -> R {
        do {
            return try body()
        } catch let error as WebhookError {
            throw error.status
        }
    }
}
