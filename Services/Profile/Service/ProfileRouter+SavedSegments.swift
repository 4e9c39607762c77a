import ProfileCore
import RetainClock
import RetainMoves
import RetainProto
import RetainRPC
import RetainServiceKit
import RetainState
import RetainWire

extension ProfileRouter {
    func registerSavedSegmentMethods(_ router: inout RPCRouter) {
        let clock = clock
        let evaluator = evaluator
        // PutSavedSegment and DeleteSavedSegment need the admin scope (RetainAuth's MethodAccessTable).
        router.profileWrite(Retain_V1_Profile.putSavedSegment, to: store) { request, _, transaction in
            let now = clock.now()
            let segment = try validator(now: now).validate(request)
            switch try transaction.state.planSavedSegment(
                segment, create: request.create, expectedVersion: request.expectedVersion, actor: request.actor, now: now)
            {
            case .unchanged(let stored):
                return Retain_V1_PutSavedSegmentResponse(segment: stored, replayed: true)
            case .write(let entry):
                try transaction.log(entry)
                return Retain_V1_PutSavedSegmentResponse(segment: transaction.state.savedSegment(segment.name))
            }
        }
        router.profileRead(Retain_V1_Profile.getSavedSegment, from: store) { request, _, state in
            try FieldFormat.requireName(request.name, field: "name")
            guard let segment = state.savedSegment(request.name) else { throw RPCError.notFound("saved segment", request.name) }
            return Retain_V1_GetSavedSegmentResponse(segment: segment)
        }
        router.profileRead(Retain_V1_Profile.listSavedSegments, from: store) { _, _, state in
            Retain_V1_ListSavedSegmentsResponse(segments: state.allSavedSegments())
        }
        router.profileWrite(Retain_V1_Profile.deleteSavedSegment, to: store) { request, _, transaction in
            let now = clock.now()
            try FieldFormat.requireName(request.name, field: "name")
            try validator(now: now).entityID(request.actor, "actor")
            guard let entry = transaction.state.planSavedSegmentDeletion(request.name, actor: request.actor, now: now) else {
                return Retain_V1_DeleteSavedSegmentResponse(existed: false)
            }
            try transaction.log(entry)
            return Retain_V1_DeleteSavedSegmentResponse(existed: true)
        }
        router.profileRead(Retain_V1_Profile.matchSegmentRule, from: store) { request, context, state in
            try state.refuseReport(ringVersion: context.ringVersion)
            let now = clock.now()
            let validator = validator(now: now)
            let tree = try SegmentRuleTree(request.rule, field: "rule")
            try validator.asOf(request.asOfMs)
            let pageSize = try validator.page(request.page)
            return try state.matchSegmentRule(
                tree, pageSize: pageSize, pageToken: request.page?.pageToken ?? "",
                asOf: request.asOfMs == 0 ? nil : request.asOfMs, now: now, undecidedOnly: request.undecidedOnly,
                withValues: request.withValues, evaluator: evaluator)
        }
    }
}
