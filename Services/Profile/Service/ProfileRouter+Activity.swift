import ProfileCore
import RetainClock
import RetainMoves
import RetainProto
import RetainRPC
import RetainServiceKit
import RetainState
import RetainWire

extension ProfileRouter {
    /// Most events in one RecordActivities call.
    static let maximumBatch = 10_000

    func registerActivityMethods(_ router: inout RPCRouter) {
        let fileEvaluator = evaluator
        let clock = clock
        router.profileWrite(Retain_V1_Profile.recordActivity, to: store) { request, _, transaction in
            try transaction.state.refuseIfMoved(request.userId)
            let now = clock.now()
            let event = Retain_V1_ActivityEvent(
                userId: request.userId, eventId: request.eventId, kind: request.kind, occurredAtMs: request.occurredAtMs,
                value: request.value, source: request.source, properties: request.properties)
            try validator(now: now).validate(event)
            let plan = try transaction.state.planActivity(event, now: now)
            let user = transaction.state.userIndex(request.userId)!
            let before = transaction.state.stage(
                user, atMs: now, evaluator: transaction.state.lifecycleEvaluator(now: now, fallback: fileEvaluator))
            switch plan {
            case .duplicate:
                return Retain_V1_RecordActivityResponse(outcome: .duplicate, stage: before)
            case .accept(let entry):
                try transaction.log(entry)
                let after = transaction.state.stage(
                    user, atMs: now, evaluator: transaction.state.lifecycleEvaluator(now: now, fallback: fileEvaluator))
                return Retain_V1_RecordActivityResponse(outcome: .accepted, stage: after, stageChanged: after != before)
            }
        }
        router.profileWrite(Retain_V1_Profile.recordActivities, to: store) { request, _, transaction in
            for event in request.events { try transaction.state.refuseIfMoved(event.userId) }
            let now = clock.now()
            guard !request.events.isEmpty else { throw RPCError.invalidArgument(field: "events", "must not be empty") }
            guard request.events.count <= Self.maximumBatch else {
                throw RPCError.invalidArgument(
                    field: "events", "at most \(Self.maximumBatch) events per call, not \(request.events.count)")
            }
            let validator = validator(now: now)
            var invalid: [Int: Retain_V1_ItemError] = [:]
            for (position, event) in request.events.enumerated() {
                do throws(RPCError) {
                    try validator.validate(event)
                } catch {
                    invalid[position] = Retain_V1_ItemError(
                        index: UInt32(position), code: error.code.rawValue, field: error.details["field"] ?? "",
                        message: error.message)
                }
            }
            let batch = ProfileState.prepareActivities(request.events, invalid: invalid, now: now)
            if let entry = batch.entry { try transaction.log(entry) }
            let plan = transaction.state.activityPlan(batch, events: request.events, invalid: invalid) {
                $2.itemError(at: $0, field: $1)
            }
            return Retain_V1_RecordActivitiesResponse(
                outcomes: plan.outcomes, acceptedCount: UInt32(plan.acceptedCount), duplicateCount: UInt32(plan.duplicateCount),
                rejectedCount: UInt32(request.events.count - plan.acceptedCount - plan.duplicateCount), errors: plan.errors)
        }
        router.profileRead(Retain_V1_Profile.getLifecycle, from: store) { request, _, state in
            try state.refuseIfMoved(request.userId)
            let now = clock.now()
            let validator = validator(now: now)
            try validator.entityID(request.userId, "user_id")
            try validator.asOf(request.asOfMs)
            let user = try state.liveUserIndex(request.userId)
            return try state.lifecycle(
                user, asOf: request.asOfMs == 0 ? now : request.asOfMs,
                evaluator: state.lifecycleEvaluator(now: now, fallback: fileEvaluator))
        }
    }
}
