package import FeedbackCore
import RetainMoves
import RetainProto
import RetainRPC
import RetainServiceKit
import RetainState
package import RetainWire

/// The one table from the feedback domain's errors to the wire's status codes.
extension FeedbackError {
    /// The status this error answers with; messages are the ones callers have always seen.
    package var status: RPCError {
        switch self {
        case .invalid(let field, let reason): RPCError.invalidArgument(field: field, reason)
        case .notFound(let what, let id): RPCError.notFound(what, id)
        case .duplicate: RPCError(.alreadyExists, description)
        case .illegalTransition(_, let status, _): RPCError(.failedPrecondition, description, details: ["status": status.shortName])
        case .conflict: RPCError(.failedPrecondition, description)
        case .full: RPCError(.resourceExhausted, description)
        case .corrupt: RPCError(.internal, description)
        }
    }

    /// Runs `body`, turning a domain error (or a move's refusal) it throws into its status; other
    /// errors pass.
    package static func mapped<R>(_ body: () throws -> R) throws -> R {
        do {
            return try body()
        } catch let error as FeedbackError {
            throw error.status
        } catch let error as UserMoveError {
            throw error.status
        }
    }
}

extension RPCRouter {
    /// ``RPCRouter/write(_:to:_:)`` whose domain errors answer with their status.
    mutating func feedbackWrite<I, O>(
        _ method: RPCMethod<I, O>, to store: StateStore<FeedbackState>,
        _ body: @escaping @Sendable (I, ServerContext, inout StateTransaction<FeedbackState>) throws -> O
    ) {
        write(method, to: store) { request, context, transaction in
            try FeedbackError.mapped { try body(request, context, &transaction) }
        }
    }

    /// ``RPCRouter/read(_:from:_:)`` whose domain errors answer with their status.
    mutating func feedbackRead<I, O>(
        _ method: RPCMethod<I, O>, from store: StateStore<FeedbackState>,
        _ body: @escaping @Sendable (I, ServerContext, borrowing FeedbackState) throws -> O
    ) {
        read(method, from: store) { request, context, state in
            try FeedbackError.mapped { try body(request, context, state) }
        }
    }
}
