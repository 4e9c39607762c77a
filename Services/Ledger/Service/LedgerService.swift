public import LedgerCore
import Logging
import NIOCore
import RetainAuth
public import RetainClock
import RetainProto
public import RetainRPC
import RetainServiceKit
public import RetainState
import RetainWire

/// The Ledger service's RPC adapter: validates requests, turns writes into log entries, and
/// answers every write only once its entry is durable (errors that depend on the state too).
public enum LedgerService {
    /// The router serving `retain.v1.Ledger` on `store`.
    public static func router(store: StateStore<LedgerState>, clock: ServiceClock = .system) -> RPCRouter {
        var router = RPCRouter()
        let ledger = Retain_V1_Ledger.self

        router.write(ledger.openAccount, store, clock) { request, _ in
            try LedgerValidation.openAccount(request)
            return Retain_V1_LedgerEntry(kind: .openAccount, openAccount: request)
        } answer: { _, outcome, state in
            Retain_V1_OpenAccountResponse(account: outcome.account, created: outcome.created)
        }
        router.write(ledger.setAccountCap, store, clock) { request, _ in
            try LedgerValidation.setAccountCap(request)
            return Retain_V1_LedgerEntry(kind: .setAccountCap, setAccountCap: request)
        } answer: { _, outcome, state in
            Retain_V1_SetAccountCapResponse(account: outcome.account)
        }
        router.ledgerRead(ledger.getAccount, from: store) { request, _, state in
            Retain_V1_GetAccountResponse(account: try state.account(request.accountId))
        }
        router.ledgerRead(ledger.listAccounts, from: store) { request, _, state in
            try LedgerValidation.listAccounts(request)
            return try state.listAccounts(request)
        }
        router.write(
            ledger.createTransfers, store, clock,
            makeEntryFromBytes: { request, bytes, _ in
                try LedgerValidation.createTransfers(request)
                // Applied from the decoded transfers, logged as the request's own bytes.
                return Retain_V1_LedgerEntry(
                    kind: .createTransfers, transfers: request.transfers, createTransfersRequest: Array(bytes.readableBytesView))
            },
            answer: { request, outcome, state in
                outcome.createTransfersResponse(omitApplied: request.omitApplied, transfers: request.transfers)
            })
        router.write(ledger.postPending, store, clock) { request, _ in
            try LedgerValidation.postPending(request)
            return Retain_V1_LedgerEntry(kind: .postPending, postPending: request)
        } answer: { _, outcome, state in
            Retain_V1_PostPendingResponse(result: outcome.results.first, pending: outcome.hold)
        }
        router.write(ledger.voidPending, store, clock) { request, _ in
            try LedgerValidation.voidPending(request)
            return Retain_V1_LedgerEntry(kind: .voidPending, voidPending: request)
        } answer: { _, outcome, state in
            Retain_V1_VoidPendingResponse(result: outcome.results.first, pending: outcome.hold)
        }
        router.ledgerRead(ledger.lookupTransfers, from: store) { request, _, state in
            try LedgerValidation.lookup(request)
            return state.lookupTransfers(request.transferIds)
        }
        router.ledgerRead(ledger.getBalance, from: store) { request, _, state in
            try LedgerValidation.balance(request)
            return state.balances(request, now: max(clock.now(), state.lastAtMs))
        }
        router.ledgerRead(ledger.getBalances, from: store) { request, _, state in
            try LedgerValidation.balances(request)
            return state.balances(
                of: request.userIds, asset: request.asset, asOf: request.asOfMs == 0 ? nil : request.asOfMs,
                now: max(clock.now(), state.lastAtMs))
        }
        router.write(
            ledger.expireLots, store, clock,
            authorize: { request, context, now in
                // Expiring as of a later time takes points before their due date: admin only. The
                // scope table lets `ledger:write` callers expire what is already due.
                if request.asOfMs > now, let caller = context.caller, !caller.scopes.contains(.admin) {
                    throw RPCError(.permissionDenied, "ExpireLots with a future as_of_ms requires the admin scope")
                }
            }
        ) { request, now in
            try LedgerValidation.expireLots(request)
            var request = request
            if request.asOfMs == 0 { request.asOfMs = now }
            return Retain_V1_LedgerEntry(kind: .expireLots, expireLots: request)
        } answer: { _, outcome, state in
            Retain_V1_ExpireLotsResponse(
                expiredLots: outcome.expiredLots, expired: outcome.expired,
                more: outcome.more)
        }
        router.write(ledger.penalize, store, clock) { request, _ in
            try LedgerValidation.penalize(request)
            return Retain_V1_LedgerEntry(kind: .penalize, penalize: request)
        } answer: { request, outcome, state in
            Retain_V1_PenalizeResponse(
                result: outcome.results.first, penalized: outcome.penalized,
                balance: state.balance(user: request.userId, asset: request.amount?.asset ?? "", now: state.lastAtMs))
        }
        router.write(ledger.rewardReferral, store, clock) { request, now in
            try LedgerValidation.rewardReferral(request, now: now)
            return Retain_V1_LedgerEntry(kind: .rewardReferral, rewardReferral: request)
        } answer: { _, outcome, state in
            Retain_V1_RewardReferralResponse(
                results: outcome.results, replayed: outcome.replayed,
                inviterCapped: outcome.inviterCapped)
        }
        router.write(ledger.defineCoupon, store, clock) { request, _ in
            try LedgerValidation.defineCoupon(request)
            return Retain_V1_LedgerEntry(kind: .defineCoupon, defineCoupon: request)
        } answer: { _, outcome, _ in
            Retain_V1_DefineCouponResponse(coupon: outcome.couponDefinition, created: outcome.created)
        }
        router.write(ledger.issueCoupon, store, clock) { request, _ in
            try LedgerValidation.issueCoupon(request)
            return Retain_V1_LedgerEntry(kind: .issueCoupon, issueCoupon: request)
        } answer: { _, outcome, _ in
            Retain_V1_IssueCouponResponse(coupon: outcome.coupon, result: outcome.results.first, replayed: outcome.replayed)
        }
        router.write(ledger.redeemCoupon, store, clock) { request, _ in
            try LedgerValidation.redeemCoupon(request)
            return Retain_V1_LedgerEntry(kind: .redeemCoupon, redeemCoupon: request)
        } answer: { _, outcome, _ in
            let discount = outcome.coupon?.discount ?? Retain_V1_Amount()
            let order = outcome.coupon?.orderAmount ?? Retain_V1_Amount()
            return Retain_V1_RedeemCouponResponse(
                coupon: outcome.coupon, discount: discount,
                payable: Retain_V1_Amount(value: order.value - discount.value, asset: order.asset), result: outcome.results.first,
                replayed: outcome.replayed)
        }
        router.write(ledger.refundCoupon, store, clock) { request, _ in
            try LedgerValidation.refundCoupon(request)
            return Retain_V1_LedgerEntry(kind: .refundCoupon, refundCoupon: request)
        } answer: { _, outcome, _ in
            Retain_V1_RefundCouponResponse(coupon: outcome.coupon, result: outcome.results.first, replayed: outcome.replayed)
        }
        router.ledgerRead(ledger.getCoupon, from: store) { request, _, state in
            try LedgerValidation.entityID(request.code, "code")
            return Retain_V1_GetCouponResponse(coupon: try state.coupon(code: request.code, now: max(clock.now(), state.lastAtMs)))
        }
        router.ledgerRead(ledger.listUserCoupons, from: store) { request, _, state in
            try LedgerValidation.entityID(request.userId, "user_id")
            return Retain_V1_ListUserCouponsResponse(
                coupons: state.coupons(user: request.userId, usableOnly: request.usableOnly, now: max(clock.now(), state.lastAtMs)))
        }
        router.ledgerRead(ledger.getStatement, from: store) { request, _, state in
            try LedgerValidation.statement(request)
            return try state.statement(request)
        }
        router.ledgerRead(ledger.getYearlySummary, from: store) { request, _, state in
            try LedgerValidation.entityID(request.userId, "user_id")
            try LedgerValidation.assets(request.assets, "assets")
            return try state.yearlySummary(request)
        }
        router.ledgerRead(ledger.getLedgerSummary, from: store) { request, _, state in
            try LedgerValidation.entityID(request.userId, "user_id")
            try LedgerValidation.assets(request.assets, "assets")
            try LedgerValidation.range(request.range, "range")
            return try state.ledgerSummary(request)
        }
        router.ledgerRead(ledger.getPeriodTotals, from: store) { request, _, state in
            try LedgerValidation.assets(request.assets, "assets")
            try LedgerValidation.range(request.range, "range")
            return try state.periodTotals(request)
        }
        router.unaryAsync(ledger.audit) { request, context in
            try LedgerValidation.assets(request.assets, "assets")
            // A copy taken under the lock: consistent at one moment, computed without holding it.
            let (copy, at) = try await store.readDurably(for: context) { state in (copy state, max(clock.now(), state.lastAtMs)) }
            let answer = copy.audit(request, at: at)
            if request.verifyChain, !answer.chainVerified {
                context.logger.critical(
                    "ledger hash chain does not verify",
                    metadata: [
                        "first_bad_sequence": "\(answer.firstBadSequence)"
                    ])
            }
            if !answer.balanced { context.logger.critical("ledger books do not balance") }
            return answer
        }
        // retain.v1.RuleSets for the flows' rewards, which the ledger keeps for the gateways.
        RuleSetMethods(service: "ledger", store: store, clock: clock).register(on: &router)
        return router
    }
}

extension RPCRouter {
    /// Registers a ledger write: `makeEntry` validates the request (its errors answer at once)
    /// and builds the log entry; the entry is stamped with the ledger clock, applied and logged
    /// under the state lock; `answer` reads the outcome applying it returned. Whatever the
    /// outcome — an answer or a refusal that depends on the state — it goes out only once the
    /// entry is durable, through the store's single write path.
    mutating func write<I, O>(
        _ method: RPCMethod<I, O>, _ store: StateStore<LedgerState>, _ clock: ServiceClock,
        authorize: (@Sendable (I, ServerContext, Int64) throws -> Void)? = nil,
        makeEntry: @escaping @Sendable (I, Int64) throws -> Retain_V1_LedgerEntry,
        answer: @escaping @Sendable (I, LedgerOutcome, borrowing LedgerState) -> O
    ) {
        write(
            method, store, clock, authorize: authorize, makeEntryFromBytes: { request, _, now in try makeEntry(request, now) },
            answer: answer)
    }

    /// Registers a ledger write as above whose `makeEntryFromBytes` also receives the request's
    /// bytes as they arrived, to log them as they are.
    mutating func write<I, O>(
        _ method: RPCMethod<I, O>, _ store: StateStore<LedgerState>, _ clock: ServiceClock,
        authorize: (@Sendable (I, ServerContext, Int64) throws -> Void)? = nil,
        makeEntryFromBytes: @escaping @Sendable (I, ByteBuffer, Int64) throws -> Retain_V1_LedgerEntry,
        answer: @escaping @Sendable (I, LedgerOutcome, borrowing LedgerState) -> O
    ) {
        unaryDeferredKeepingBytes(method) { request, bytes, context, responder in
            let now = clock.now()
            try authorize?(request, context, now)
            var entry = try makeEntryFromBytes(request, bytes, now)
            try store.write(
                answering: responder,
                { transaction -> Result<O, RPCError> in
                    entry.atMs = max(now, transaction.state.lastAtMs)
                    let outcome = try transaction.log(entry)
                    if let error = outcome.error { return .failure(error.status) }
                    return transaction.withState { state in .success(answer(request, outcome, state)) }
                }
            ) { result in
                switch result {
                case .success(let message): responder.succeed(message)
                case .failure(let error): responder.finish(error)
                }
            }
        }
    }
}
