package import LedgerCore
package import RetainProto
import RetainRPC
import RetainServiceKit
import RetainState
package import RetainWire

/// The one table from the ledger's errors and transfer result codes to the wire's status codes.
extension LedgerError {
    /// The status this error answers with; a refused transfer carries its result code in
    /// `details["result"]`. Messages are the ones callers have always seen.
    package var status: RPCError {
        switch self {
        case .invalid(let field, let reason): RPCError.invalidArgument(field: field, reason)
        case .notFound(let what, let id): RPCError.notFound(what, id)
        case .exists: RPCError(.alreadyExists, description)
        case .refused: RPCError(.failedPrecondition, description)
        case .transfer(let result, _): RPCError(result.statusCode, description, details: ["result": result.resultName])
        case .rewardRefused(let result, _): RPCError(.failedPrecondition, description, details: ["result": result.resultName])
        case .coupon(let result, _): RPCError(result.statusCode, description, details: ["result": result.resultName])
        }
    }

    /// Runs `body`, turning a domain error it throws into its status; other errors pass.
    package static func mapped<R>(_ body: () throws -> R) throws -> R {
        do {
            return try body()
        } catch let error as LedgerError {
            throw error.status
        }
    }
}

extension Retain_V1_TransferResultCode {
    /// The status of a failed transfer result, for calls that move one transfer.
    package var statusCode: RPCStatusCode {
        switch self {
        case .pendingNotFound, .accountNotFound: .notFound
        case .existsWithDifferentBody: .alreadyExists
        case .invalidTransferId, .invalidAccountId, .sameAccount, .invalidAmount, .invalidAsset, .invalidKind,
            .invalidTimeout, .invalidExpiry, .linkedChainOpen:
            .invalidArgument
        default: .failedPrecondition
        }
    }

    /// The code's proto name, as `details["result"]` carries it.
    var resultName: String { protoValueName ?? "\(rawValue)" }
}

extension Retain_V1_CouponResultCode {
    /// The status of a refused coupon call: an unknown coupon or definition is NOT_FOUND, a code
    /// or id reused with another body ALREADY_EXISTS, every other refusal (threshold not met,
    /// expired, redeemed, not the owner) FAILED_PRECONDITION.
    package var statusCode: RPCStatusCode {
        switch self {
        case .couponNotFound, .couponDefinitionNotFound: .notFound
        case .couponExistsWithDifferentBody: .alreadyExists
        default: .failedPrecondition
        }
    }

    /// The code's proto name, as `details["result"]` carries it.
    var resultName: String { protoValueName ?? "\(rawValue)" }
}

extension RPCRouter {
    /// ``RPCRouter/read(_:from:_:)`` whose domain errors answer with their status.
    mutating func ledgerRead<I, O>(
        _ method: RPCMethod<I, O>, from store: StateStore<LedgerState>,
        _ body: @escaping @Sendable (I, ServerContext, borrowing LedgerState) throws -> O
    ) {
        read(method, from: store) { request, context, state in
            try LedgerError.mapped { try body(request, context, state) }
        }
    }
}
