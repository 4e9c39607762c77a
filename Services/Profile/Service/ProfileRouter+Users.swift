import ProfileCore
import RetainClock
import RetainMoves
import RetainProto
import RetainRPC
import RetainServiceKit
import RetainState
import RetainWire

extension ProfileRouter {
    func registerUserMethods(_ router: inout RPCRouter) {
        let fileEvaluator = evaluator
        let clock = clock
        router.profileWrite(Retain_V1_Profile.registerUser, to: store) { request, context, transaction in
            if !request.userId.isEmpty { try transaction.state.refuseIfMoved(request.userId) }
            if request.userId.isEmpty || !transaction.state.holdsUser(request.userId) {
                try transaction.state.refuseNewUser(ringVersion: context.ringVersion)
            }
            let now = clock.now()
            try validator(now: now).validate(request)
            switch try transaction.state.planRegistration(request, now: now, generateID: UserIDGenerator.generate) {
            case .replay(let user):
                return Retain_V1_RegisterUserResponse(
                    profile: transaction.state.profile(
                        user, now: now, evaluator: transaction.state.lifecycleEvaluator(now: now, fallback: fileEvaluator)), replayed: true)
            case .register(let entry):
                try transaction.log(entry)
                let user = transaction.state.userIndex(entry.registration!.userId)!
                return Retain_V1_RegisterUserResponse(
                    profile: transaction.state.profile(
                        user, now: now, evaluator: transaction.state.lifecycleEvaluator(now: now, fallback: fileEvaluator)))
            }
        }
        router.profileRead(Retain_V1_Profile.getProfile, from: store) { request, _, state in
            try state.refuseIfMoved(request.userId)
            let now = clock.now()
            try validator(now: now).entityID(request.userId, "user_id")
            guard let user = state.userIndex(request.userId),
                request.includeDeleted || !state.isDeleted(user)
            else {
                throw RPCError.notFound("user", request.userId)
            }
            return Retain_V1_GetProfileResponse(
                profile: state.profile(
                    user, now: now, evaluator: state.lifecycleEvaluator(now: now, fallback: fileEvaluator),
                    includeActivity: request.includeActivity))
        }
        router.profileWrite(Retain_V1_Profile.updateAttributes, to: store) { request, _, transaction in
            try transaction.state.refuseIfMoved(request.userId)
            let now = clock.now()
            try validator(now: now).validate(request)
            try transaction.log(try transaction.state.planAttributeUpdate(request, now: now))
            let user = transaction.state.userIndex(request.userId)!
            return Retain_V1_UpdateAttributesResponse(
                profile: transaction.state.profile(
                    user, now: now, evaluator: transaction.state.lifecycleEvaluator(now: now, fallback: fileEvaluator)))
        }
        router.profileWrite(Retain_V1_Profile.addTags, to: store) { request, _, transaction in
            try transaction.state.refuseIfMoved(request.userId)
            let now = clock.now()
            try validator(now: now).validateTags(userID: request.userId, tags: request.tags)
            if let entry = try transaction.state.planTagChange(userID: request.userId, add: request.tags, remove: [], now: now) {
                try transaction.log(entry)
            }
            return Retain_V1_AddTagsResponse(tags: transaction.state.tagNames(transaction.state.userIndex(request.userId)!))
        }
        router.profileWrite(Retain_V1_Profile.removeTags, to: store) { request, _, transaction in
            try transaction.state.refuseIfMoved(request.userId)
            let now = clock.now()
            try validator(now: now).validateTags(userID: request.userId, tags: request.tags)
            if let entry = try transaction.state.planTagChange(userID: request.userId, add: [], remove: request.tags, now: now) {
                try transaction.log(entry)
            }
            return Retain_V1_RemoveTagsResponse(tags: transaction.state.tagNames(transaction.state.userIndex(request.userId)!))
        }
        router.profileWrite(Retain_V1_Profile.deleteUser, to: store) { request, _, transaction in
            try transaction.state.refuseIfMoved(request.userId)
            let now = clock.now()
            try validator(now: now).validate(request)
            switch try transaction.state.planDeletion(userID: request.userId, reason: request.reason, actor: request.actor, now: now) {
            case .alreadyDeleted(let at):
                return Retain_V1_DeleteUserResponse(deletedAtMs: at, alreadyDeleted: true)
            case .delete(let entry):
                try transaction.log(entry)
                return Retain_V1_DeleteUserResponse(deletedAtMs: now)
            }
        }
        router.profileWrite(Retain_V1_Profile.assignVariant, to: store) { request, _, transaction in
            try transaction.state.refuseIfMoved(request.userId)
            let now = clock.now()
            try validator(now: now).validate(request)
            let plan = try transaction.state.planAssignment(request, now: now)
            if let entry = plan.entry { try transaction.log(entry) }
            return plan.response
        }
    }
}
