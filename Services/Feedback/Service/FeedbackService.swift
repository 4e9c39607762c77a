package import FeedbackCore
package import RetainClock
import Foundation
import Logging
import RetainMoves
import RetainProto
package import RetainRPC
import RetainRuleSets
import RetainServiceKit
package import RetainState

/// The Feedback service's RPC adapter: validates each request, asks the domain for a decision,
/// logs it, and answers once it is durable (writes) or at once under the state lock (reads).
package enum FeedbackService {
    /// The router serving retain.v1.Feedback from `store`, retain.v1.Resharding for moving its
    /// users to another shard (a fenced user's calls and reports for another ring are refused,
    /// docs/CLUSTER.md), and retain.v1.RuleSets for its rules,
    /// with `clock` as "now" (tests may pass their own). Every write decides with the rule-set
    /// version in force; `configuration` (the file's rules) is only the fallback until version 1
    /// is stored.
    package static func router(
        store: StateStore<FeedbackState>, configuration fileRules: FeedbackConfiguration,
        clock: ServiceClock = .system
    ) -> RPCRouter {
        var router = RPCRouter()
        RuleSetMethods(service: "feedback", store: store, clock: clock).register(on: &router)
        ReshardingMethods(store: store) { moves in
            Retain_V1_FeedbackLogEntry(usersMoved: Retain_V1_UsersMoved(moves, userID: FeedbackState.userID(of:)))
        }.register(on: &router)

        router.feedbackWrite(Retain_V1_Feedback.submitFeedback, to: store) { request, _, transaction in
            try transaction.state.refuseIfMoved(request.userId)
            let now = clock.now()
            let request = try FeedbackValidation.submission(request, nowMs: now)
            switch try transaction.state.decideSubmission(
                request, nowMs: now, configuration: transaction.state.rules(now: now, fallback: fileRules))
            {
            case .replay(let item):
                return Retain_V1_SubmitFeedbackResponse(item: item, replayed: true)
            case .log(let entry):
                try transaction.log(entry)
                return Retain_V1_SubmitFeedbackResponse(item: try transaction.state.item(entry.submitted?.itemId ?? "", nowMs: now))
            }
        }
        router.feedbackRead(Retain_V1_Feedback.getFeedback, from: store) { request, _, state in
            try FeedbackValidation.get(request)
            try state.refuseIfItemMoved(request.itemId)
            if !request.userId.isEmpty { try state.refuseIfMoved(request.userId) }
            if !request.userId.isEmpty {
                return Retain_V1_GetFeedbackResponse(item: try state.item(request.itemId, forUser: request.userId, nowMs: clock.now()))
            }
            return Retain_V1_GetFeedbackResponse(item: try state.item(request.itemId, nowMs: clock.now()))
        }
        router.feedbackWrite(Retain_V1_Feedback.triageFeedback, to: store) { request, _, transaction in
            try transaction.state.refuseIfItemMoved(request.itemId)
            try FeedbackValidation.triage(request)
            let now = clock.now()
            let (item, replayed) = try perform(
                transaction.state.decideTriage(
                    request, nowMs: now, configuration: transaction.state.rules(now: now, fallback: fileRules)), &transaction,
                request.itemId, now)
            return Retain_V1_TriageFeedbackResponse(item: item, replayed: replayed)
        }
        router.feedbackWrite(Retain_V1_Feedback.assignFeedback, to: store) { request, _, transaction in
            try transaction.state.refuseIfItemMoved(request.itemId)
            try FeedbackValidation.assignment(request)
            let now = clock.now()
            let (item, replayed) = try perform(transaction.state.decideAssignment(request, nowMs: now), &transaction, request.itemId, now)
            return Retain_V1_AssignFeedbackResponse(item: item, replayed: replayed)
        }
        router.feedbackWrite(Retain_V1_Feedback.startProgress, to: store) { request, _, transaction in
            try transaction.state.refuseIfItemMoved(request.itemId)
            try FeedbackValidation.start(request)
            let now = clock.now()
            let (item, replayed) = try perform(transaction.state.decideStart(request, nowMs: now), &transaction, request.itemId, now)
            return Retain_V1_StartProgressResponse(item: item, replayed: replayed)
        }
        router.feedbackWrite(Retain_V1_Feedback.resolveFeedback, to: store) { request, _, transaction in
            try transaction.state.refuseIfItemMoved(request.itemId)
            try FeedbackValidation.resolution(request)
            let now = clock.now()
            let (item, replayed) = try perform(
                transaction.state.decideResolution(
                    request, nowMs: now, configuration: transaction.state.rules(now: now, fallback: fileRules)), &transaction,
                request.itemId, now)
            return Retain_V1_ResolveFeedbackResponse(item: item, replayed: replayed)
        }
        router.feedbackWrite(Retain_V1_Feedback.closeFeedback, to: store) { request, _, transaction in
            try transaction.state.refuseIfItemMoved(request.itemId)
            try FeedbackValidation.closing(request)
            let now = clock.now()
            let (item, replayed) = try perform(transaction.state.decideClosing(request, nowMs: now), &transaction, request.itemId, now)
            return Retain_V1_CloseFeedbackResponse(item: item, replayed: replayed)
        }
        router.feedbackWrite(Retain_V1_Feedback.reopenFeedback, to: store) { request, _, transaction in
            try transaction.state.refuseIfItemMoved(request.itemId)
            try FeedbackValidation.reopening(request)
            let now = clock.now()
            let (item, replayed) = try perform(
                transaction.state.decideReopening(
                    request, nowMs: now, configuration: transaction.state.rules(now: now, fallback: fileRules)), &transaction,
                request.itemId, now)
            return Retain_V1_ReopenFeedbackResponse(item: item, replayed: replayed)
        }
        router.feedbackWrite(Retain_V1_Feedback.addComment, to: store) { request, _, transaction in
            try transaction.state.refuseIfItemMoved(request.itemId)
            try FeedbackValidation.comment(request)
            switch try transaction.state.decideComment(request, nowMs: clock.now()) {
            case .replay(let comment):
                return Retain_V1_AddCommentResponse(comment: comment, replayed: true)
            case .log(let entry):
                try transaction.log(entry)
                return Retain_V1_AddCommentResponse(comment: try transaction.state.comment(of: entry))
            }
        }
        router.feedbackWrite(Retain_V1_Feedback.markCompensationPaid, to: store) { request, _, transaction in
            try transaction.state.refuseIfItemMoved(request.itemId)
            try FeedbackValidation.compensationPaid(request)
            let now = clock.now()
            let (item, replayed) = try perform(
                transaction.state.decideCompensationPaid(request, nowMs: now), &transaction, request.itemId, now)
            return Retain_V1_MarkCompensationPaidResponse(item: item, replayed: replayed)
        }
        router.feedbackRead(Retain_V1_Feedback.listFeedback, from: store) { request, context, state in
            try state.refuseReport(ringVersion: context.ringVersion)
            try FeedbackValidation.list(request)
            return try state.list(request, nowMs: clock.now())
        }
        router.feedbackRead(Retain_V1_Feedback.listOverdue, from: store) { request, context, state in
            try state.refuseReport(ringVersion: context.ringVersion)
            try FeedbackValidation.overdue(request)
            return try state.listOverdue(request, nowMs: clock.now())
        }
        router.feedbackRead(Retain_V1_Feedback.getUserFeedbackHistory, from: store) { request, _, state in
            try state.refuseIfMoved(request.userId)
            try FeedbackValidation.history(request)
            return state.userHistory(request, nowMs: clock.now())
        }
        router.feedbackRead(Retain_V1_Feedback.getFaq, from: store) { request, context, state in
            try state.refuseReport(ringVersion: context.ringVersion)
            try FeedbackValidation.faq(request)
            return try state.faqPage(request)
        }
        router.feedbackRead(Retain_V1_Feedback.getFeedbackStats, from: store) { request, context, state in
            try state.refuseReport(ringVersion: context.ringVersion)
            try FeedbackValidation.stats(request)
            return state.stats(request, nowMs: clock.now())
        }
        return router
    }

    /// Stores the file's rules as rule-set version 1 of an empty history (on the leader, when
    /// replicated); with stored versions, they win (a notice says so when the file differs).
    package static func seedRules(
        store: StateStore<FeedbackState>, configuration: FeedbackConfiguration, origin: String, clock: ServiceClock = .system
    ) throws {
        let methods = RuleSetMethods(service: "feedback", store: store, clock: clock)
        let logger = Logger(label: "retain.feedback")
        if let gate = store.commitGate {
            gate.onRoleChange { role in
                guard case .leader = role else { return }
                try? methods.seed(document: configuration.document, origin: origin, logger: logger)
            }
        } else {
            try methods.seed(document: configuration.document, origin: origin, logger: logger)
        }
    }

    /// Logs a workflow decision (or takes its replay) and returns the answer's item and whether
    /// it was replayed.
    private static func perform(
        _ decision: FeedbackDecision<Retain_V1_FeedbackItem>,
        _ transaction: inout StateTransaction<FeedbackState>, _ itemID: String,
        _ now: Int64
    ) throws -> (Retain_V1_FeedbackItem, Bool) {
        switch decision {
        case .replay(let item):
            return (item, true)
        case .log(let entry):
            try transaction.log(entry)
            return (try transaction.state.item(itemID, nowMs: now), false)
        }
    }
}
