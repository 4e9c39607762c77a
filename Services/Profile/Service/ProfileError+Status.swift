package import ProfileCore
package import RetainProto
import RetainRPC
import RetainMoves
import RetainServiceKit
import RetainState
package import RetainWire

/// The one table from the profile domain's errors to the wire's status codes.
extension ProfileError {
    /// The status this error answers with; messages are the ones callers have always seen.
    package var status: RPCError {
        switch self {
        case .invalid(let field, let reason): RPCError.invalidArgument(field: field, reason)
        case .notFound(let what, let id): RPCError.notFound(what, id)
        case .exists: RPCError(.alreadyExists, description)
        case .refused: RPCError(.failedPrecondition, description)
        case .versionMismatch: RPCError(.aborted, description)
        case .corrupt: RPCError(.internal, description)
        }
    }

    /// The error of the event at `position` of a batch, naming `field`, with this error's status.
    package func itemError(at position: Int, field: String) -> Retain_V1_ItemError {
        let status = status
        return Retain_V1_ItemError(index: UInt32(position), code: status.code.rawValue, field: field, message: status.message)
    }

    /// Runs `body`, turning a domain error it throws into its status (a move's refusal through
    /// the shared table, ``UserMoveError/status``); other errors pass.
    package static func mapped<R>(_ body: () throws -> R) throws -> R {
        do {
            return try body()
        } catch let error as ProfileError {
            throw error.status
        } catch let error as UserMoveError {
            throw error.status
        }
    }
}

extension RPCRouter {
    /// ``RPCRouter/write(_:to:_:)`` whose domain errors answer with their status.
    mutating func profileWrite<I, O>(
        _ method: RPCMethod<I, O>, to store: StateStore<ProfileState>,
        _ body: @escaping @Sendable (I, ServerContext, inout StateTransaction<ProfileState>) throws -> O
    ) {
        write(method, to: store) { request, context, transaction in
            try ProfileError.mapped { try body(request, context, &transaction) }
        }
    }

    /// ``RPCRouter/read(_:from:_:)`` whose domain errors answer with their status.
    mutating func profileRead<I, O>(
        _ method: RPCMethod<I, O>, from store: StateStore<ProfileState>,
        _ body: @escaping @Sendable (I, ServerContext, borrowing ProfileState) throws -> O
    ) {
        read(method, from: store) { request, context, state in
            try ProfileError.mapped { try body(request, context, state) }
        }
    }
}
