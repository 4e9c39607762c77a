import ProfileCore
import RetainClock
import RetainMoves
import RetainProto
import RetainRPC
import RetainServiceKit
import RetainState

extension ProfileRouter {
    func registerAnalyticsMethods(_ router: inout RPCRouter) {
        let fileEvaluator = evaluator
        let clock = clock
        router.profileRead(Retain_V1_Profile.countSegment, from: store) { request, context, state in
            try state.refuseReport(ringVersion: context.ringVersion)
            let now = clock.now()
            let validator = validator(now: now)
            try validator.validate(request.filter)
            try validator.asOf(request.asOfMs)
            return Retain_V1_CountSegmentResponse(
                count: state.countSegment(
                    request.filter ?? Retain_V1_SegmentFilter(), asOf: request.asOfMs == 0 ? now : request.asOfMs,
                    evaluator: state.lifecycleEvaluator(now: now, fallback: fileEvaluator)))
        }
        router.profileRead(Retain_V1_Profile.listSegment, from: store) { request, context, state in
            try state.refuseReport(ringVersion: context.ringVersion)
            let now = clock.now()
            let validator = validator(now: now)
            try validator.validate(request.filter)
            try validator.asOf(request.asOfMs)
            let pageSize = try validator.page(request.page)
            return try state.listSegment(
                request.filter ?? Retain_V1_SegmentFilter(), pageSize: pageSize, pageToken: request.page?.pageToken ?? "",
                asOf: request.asOfMs == 0 ? nil : request.asOfMs, now: now,
                evaluator: state.lifecycleEvaluator(now: now, fallback: fileEvaluator))
        }
        router.profileRead(Retain_V1_Profile.getRetention, from: store) { request, context, state in
            try state.refuseReport(ringVersion: context.ringVersion)
            let now = clock.now()
            let days = try validator(now: now).validate(request)
            return try state.retention(request, days: days, asOf: request.asOfMs == 0 ? now : request.asOfMs)
        }
        router.profileRead(Retain_V1_Profile.getActiveUsers, from: store) { request, context, state in
            try state.refuseReport(ringVersion: context.ringVersion)
            let now = clock.now()
            try validator(now: now).validate(request)
            return try state.activeUsers(request, asOf: request.asOfMs == 0 ? now : request.asOfMs)
        }
        router.profileRead(Retain_V1_Profile.getFunnel, from: store) { request, context, state in
            try state.refuseReport(ringVersion: context.ringVersion)
            let now = clock.now()
            try validator(now: now).validate(request)
            return try state.funnel(request, asOf: request.asOfMs == 0 ? now : request.asOfMs)
        }
        router.profileRead(Retain_V1_Profile.getExperimentResults, from: store) { request, context, state in
            try state.refuseReport(ringVersion: context.ringVersion)
            let validator = validator(now: clock.now())
            try validator.validate(request)
            return try state.experimentResults(
                experimentID: request.experimentId, metric: request.metricKind, control: request.controlVariant)
        }
        router.profileRead(Retain_V1_Profile.listChurnWarnings, from: store) { request, context, state in
            try state.refuseReport(ringVersion: context.ringVersion)
            let now = clock.now()
            let pageSize = try validator(now: now).validate(request)
            return try state.churnWarnings(
                channels: request.channels, minimumDrop: request.minDrop, pageSize: pageSize,
                pageToken: request.page?.pageToken ?? "", asOf: request.asOfMs == 0 ? nil : request.asOfMs, now: now,
                evaluator: state.lifecycleEvaluator(now: now, fallback: fileEvaluator))
        }
    }
}
