package import GrowthCore
package import RetainWire
import RetainMoves
import RetainServiceKit

/// The one table from the growth domain's errors to the wire's status codes.
extension GrowthError {
    /// The status this error answers with; messages are the ones callers have always seen.
    package var status: RPCError {
        switch self {
        case .invalid(let field, let reason): RPCError.invalidArgument(field: field, reason)
        case .notFound(let what, let id): RPCError.notFound(what, id)
        case .notStarted: RPCError(.notFound, description)
        case .keyReused(_, let field): RPCError(.alreadyExists, description, details: field.map { ["field": $0] } ?? [:])
        case .refused: RPCError(.failedPrecondition, description)
        case .malformedEntry: RPCError(.invalidArgument, description)
        case .move(let error): error.status
        }
    }

    /// Runs `body`, turning a domain error it throws into its status; other errors pass.
    package static func mapped<R>(_ body: () throws -> R) throws -> R {
        do {
            return try body()
        } catch let error as GrowthError {
            throw error.status
        } catch let error as UserMoveError {
            throw error.status
        }
    }
}
